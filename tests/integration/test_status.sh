#!/usr/bin/env bash
# ssp status tells the truth about each peer: in sync or not, what each side
# lacks, the last error, and a clock that is off (whose commits are kept but
# do not drag our clock along). ssp --json status carries the state hashes.
. "$(dirname "$0")/lib.sh"

cport=$(free_port)
central c "$cport" north
member a c north "127.0.0.1:$cport"
cid=$(node_id c)
peer() { json_get "$(on a --json status)" "[p for p in j['peers'] if p['node']=='$cid'][0]$1"; }

for i in 1 2 3 4 5; do on a add person alias="P$i" >/dev/null; done
on a sync >/dev/null
[ "$(peer "['synced']")" = True ] || fail "a is not in sync with c after a sync"
[ "$(peer "['they_lack']")" -eq 0 ] && [ "$(peer "['we_lack']")" -eq 0 ] || fail "lack counts after sync"
[ "$(peer "['last_contact']")" != None ] || fail "no last contact"
sa=$(json_get "$(on a --json status)" "j['state']['north']['hash']")
sc=$(json_get "$(on c --json status)" "j['state']['north']['hash']")
[ "$sa" = "$sc" ] || fail "state hashes differ after sync: $sa $sc"

# The central goes away: three writes later, status says it lacks them.
on c stop >/dev/null
for i in 6 7 8; do on a add person alias="P$i" >/dev/null; done
[ "$(peer "['synced']")" = False ] || fail "status says in sync with a stopped peer"
[ "$(peer "['they_lack']")" -eq 3 ] || fail "they_lack is $(peer "['they_lack']"), wanted 3"
[ "$(peer "['last_error']")" != None ] || fail "no last error after the peer went away"
rc=0; out=$(on a sync --timeout 5) || rc=$?
[ "$rc" -eq 1 ] || fail "sync with a stopped peer exited $rc, wanted 1"
contains "$out" "not in sync"

# The central comes back with its clock an hour ahead.
ahead=$(( $(date +%s%3N) + 3600 * 1000 ))
SSP_TEST_CLOCK_MS=$ahead on c start --listen "127.0.0.1:$cport" >/dev/null
on c add person --scope north alias=FUTURE >/dev/null
on a sync >/dev/null
[ "$(peer "['they_lack']")" -eq 0 ] || fail "the central still lacks our commits"
skew=$(peer "['clock_skew_ms']")
[ "$skew" -gt 3000000 ] || fail "clock skew $skew ms, wanted about an hour"
[ "$(peer "['clock_warning']")" != None ] || fail "no clock warning"
[ "$(peer "['clock_ahead']")" -ge 1 ] || fail "the commit with a clock ahead was not counted"
on a status | grep -q "clock is ahead" || fail "human status shows no clock warning"
# Our clock did not follow: our next write is stamped with our own time.
made=$(json_get "$(on a --json add person alias=NOW)" 'j["created"]')
now=$(date -u +%Y-%m-%dT%H)
case "$made" in "$now"*) ;; *) fail "our clock was dragged along: created $made, now $now" ;; esac
echo "ok: status reports sync, lacks, errors and clock skew truthfully"
