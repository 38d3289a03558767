#!/usr/bin/env bash
# A link that goes dark without a reset (a middlebox that lost its state and
# swallows what either side sends; TCP sees it acknowledged and never gives
# up): the session hears nothing back, gives up after [net] silence seconds
# and dials anew, and the sync completes on the new connection. A quiet but
# live session is probed, not dropped.
source "$(dirname "$0")/lib.sh"
PROXY="$(dirname "$0")/faultproxy.py"

cport=$(free_port)
pport=$(free_port)
central c "$cport" north
C=$(node_id c)
python3 "$PROXY" "$pport" "127.0.0.1:$cport" --seed 1 --cuts 1 --min-cut 3000 --max-cut 3000 \
    --silent 2>"$T/proxy.log" &
proxy=$!
at_exit 'kill $proxy 2>/dev/null'

id=$(on a init --name a --kdf interactive)
on c enrol "$id" --name a --scope north >/dev/null
grep -q '^# silence = 60$' "$T/a/ssp.conf" || fail "ssp.conf does not show the silence setting"
sed -i 's/^# silence = 60$/silence = 5/' "$T/a/ssp.conf"
python3 "$(dirname "$0")/gen_records.py" 200 north | on c import - >/dev/null
on a start >/dev/null
on a peer add "$C" "127.0.0.1:$pport" >/dev/null

# The first connection goes dark mid-sync: that sync fails, saying why, and
# the next one, on a new connection, carries it through.
out=$(on a sync --timeout 60 2>&1) && fail "a sync through a dark link succeeded: $out"
contains "$out" "no word from the peer for 5 s"
on a sync --timeout 60 >/dev/null || fail "the sync did not complete over a new connection"
grep -q "went silent after 3000 bytes" "$T/proxy.log" ||
    fail "the proxy did not go dark: $(cat "$T/proxy.log"; tail -5 "$T/a/sspd.log")"
grep -q "no word from the peer for 5 s while waiting for it" "$T/a/sspd.log" ||
    fail "the dead link was not noticed: $(tail -5 "$T/a/sspd.log")"
[ "$(state_of a north)" = "$(state_of c north)" ] || fail "a lacks the central's records"
on a add person alias=from-a >/dev/null
on a sync --timeout 30 >/dev/null
[ "$(state_of a north)" = "$(state_of c north)" ] || fail "a and the central differ"

# Quiet but alive: probed every 5 s and answered, so never dropped.
sleep 12
[ "$(grep -c "no word from the peer" "$T/a/sspd.log")" -eq 1 ] ||
    fail "a live quiet session was dropped: $(tail -5 "$T/a/sspd.log")"
[ "$(json_get "$(on a --json status)" "j['peers'][0]['state']")" = connected ] ||
    fail "a is no longer connected"
on a verify >/dev/null
echo "ok: a dark link is given up after the silence bound, and the sync completes anew"
