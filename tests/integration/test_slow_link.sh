#!/usr/bin/env bash
# A slow, lossy link (DESIGN §13: 64 kbit/s, 500 ms round trip, lost
# segments) between two real nodes, through shapeproxy.py: a sync of new
# records finishes, its bytes on the wire are the commits plus little,
# status says the link is slow while it runs, and a connection cut mid-sync
# loses only the frame under way (frames are sized to about a second of the
# link): both stores verify and the next session goes on from there.
. "$(dirname "$0")/lib.sh"
PROXY="$(dirname "$0")/shapeproxy.py"
GEN="$(dirname "$0")/gen_records.py"
N=${SSP_SLOW_RECORDS:-200}
SHAPE=(--rate 64000 --delay-ms 250 --loss 0.05 --stall-ms 1000)

cport=$(free_port)
pport=$(free_port)
proxy=
stop_proxy() { [ -z "$proxy" ] || { kill "$proxy" 2>/dev/null || true; wait "$proxy" 2>/dev/null || true; }; proxy=; }
at_exit stop_proxy
# start_proxy NAME ARGS...: the shaping proxy on pport, its byte counts in $T/NAME.json.
start_proxy() {
    local name=$1; shift
    rm -f "$T/$name.json"
    python3 "$PROXY" "$pport" "127.0.0.1:$cport" "${SHAPE[@]}" --stats "$T/$name.json" "$@" \
        2>"$T/$name.log" &
    proxy=$!
    for _ in $(seq 50); do grep -q listening "$T/$name.log" 2>/dev/null && return; sleep 0.1; done
    fail "the proxy did not start: $(cat "$T/$name.log")"
}
wire() { json_get "$(cat "$T/$1.json")" 'j["up"] + j["down"]'; }
# Each record was imported in a batch of its own, which adds its audit entry: 2 records a line.
records() { json_get "$(on "$1" --json status)" 'j["records"] // 2'; }

central c "$cport" north
member a c north "127.0.0.1:$cport"
cid=$(node_id c)
# From here the area reaches the central only through the proxy, which is not up yet.
on a peer add "$cid" "127.0.0.1:$pport" >/dev/null
python3 "$GEN" "$N" | on a import - --batch 1 >/dev/null

# 1. One sync over the link, from connect to in sync.
start_proxy link --seed "${SSP_SEED:-7}"
t0=$(date +%s%N)
on a --json sync --timeout 170 >"$T/sync.json" 2>"$T/sync.err" &
sync=$!
# While it runs, status on the sending side says the link is slow, with the rate and what is left.
slow=
while kill -0 "$sync" 2>/dev/null; do
    st=$(on a --json status)
    if [ "$(json_get "$st" "[p for p in j['peers'] if p['node']=='$cid'][0]['slow']")" = True ]; then
        slow=$st
        on a status >"$T/status.txt"
        break
    fi
    sleep 0.3
done
wait "$sync" || fail "the sync over the slow link failed: $(cat "$T/sync.err")"
secs=$(( ($(date +%s%N) - t0) / 1000000 ))
[ -n "$slow" ] || fail "status never said the link was slow while the sync ran"
peer="[p for p in j['peers'] if p['node']=='$cid'][0]"
rate=$(json_get "$slow" "$peer['send_rate']")
[ "$rate" -gt 1000 ] && [ "$rate" -lt 12000 ] || fail "status measured $rate B/s on a 8000 B/s link"
[ "$(json_get "$slow" "$peer['they_lack']")" -gt 0 ] || fail "slow, but nothing left to send"
[ "$(json_get "$slow" "$peer['time_left_s']")" != None ] || fail "slow, but no time left shown"
grep -q "slow link: sending" "$T/status.txt" || fail "human status does not say slow: $(cat "$T/status.txt")"
[ "$(records c)" -eq "$N" ] || fail "the central holds $(records c) records, wanted $N"
sleep 0.3 # the proxy's counts are written every 0.2 s
sj=$(cat "$T/sync.json")
payload=$(json_get "$sj" 'j["peers"][0]["bytes_out"] + j["peers"][0]["bytes_in"]')
reported=$(json_get "$sj" 'j["peers"][0]["wire_out"] + j["peers"][0]["wire_in"]')
counted=$(wire link)
# Frame overhead: the handshake and both HELLOs (~1 KiB), then per message a few tens of bytes.
[ "$counted" -le $(( payload * 110 / 100 + 2048 )) ] ||
    fail "$counted bytes on the wire for $payload bytes of commits"
[ "$counted" -ge "$payload" ] || fail "the proxy counted $counted bytes, less than the $payload of commits"
d=$(( counted - reported )); [ "${d#-}" -le 512 ] || fail "the proxy counted $counted bytes, sync reported $reported"
echo "slow link: $N records, $payload bytes of commits, $counted on the wire, ${secs} ms;" \
     "bytes alone at 64 kbit/s: $(( counted / 8 )) ms; status measured $rate B/s"

# 2. Connections cut mid-sync: each loses at most the frame under way.
stop_proxy
python3 "$GEN" "$N" | on a import - --batch 1 >/dev/null
start_proxy cut --seed 3 --cuts 2 --min-cut 25000 --max-cut 50000
before=$(records c)
ok=0 attempts=0
for attempt in $(seq 8); do
    attempts=$attempt
    if on a --json sync --timeout 120 >"$T/sync.json" 2>"$T/sync.err"; then ok=1; break; fi
    on a verify >/dev/null || fail "the area's store does not verify after a cut"
    on c verify >/dev/null || fail "the central's store does not verify after a cut"
    now=$(records c)
    [ "$now" -gt "$before" ] || fail "a cut session left nothing applied (central at $now records)"
    before=$now
done
[ "$ok" -eq 1 ] || fail "no sync completed after the cuts: $(cat "$T/sync.err")"
cuts=$(json_get "$(cat "$T/cut.json")" 'j["cuts"]')
[ "$cuts" -eq 2 ] || fail "the proxy cut $cuts connections, wanted 2: $(cat "$T/cut.log" "$T/cut.json")"
on a verify >/dev/null || fail "area verify"
on c verify >/dev/null || fail "central verify"
[ "$(records a)" -eq $((2 * N)) ] && [ "$(records c)" -eq $((2 * N)) ] ||
    fail "after the cuts: area $(records a), central $(records c) records, wanted $((2 * N))"
[ "$(state_of a north)" = "$(state_of c north)" ] || fail "north differs between area and central"
sleep 0.3
counted=$(wire cut)
# What a cut wastes is the frame being received: at most 8 KiB (the first frames of a
# session, before its first ack), where before the whole sync was one 256 KiB frame.
[ "$counted" -le $(( payload * 110 / 100 + attempts * 2048 + cuts * 8192 )) ] ||
    fail "$counted bytes on the wire for $payload bytes of commits and $cuts cuts"
echo "ok: $cuts cuts cost $(( counted - payload )) bytes beyond the commits in $attempts sessions;" \
     "both nodes hold the same $((2 * N)) records"
