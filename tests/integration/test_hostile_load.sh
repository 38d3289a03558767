#!/usr/bin/env bash
# Hostile load against real sspd processes: peerkit (tests/tools/peerkit.c)
# sends what a member in good standing could send to wear a node down, and
# each fix must hold.
#
#  1. Records piled up by one member's commits: made-up fields (bloat),
#     12,283 conflicts in one commit (conflicts; also timed, sent straight
#     to the central), 16 KiB conflicts commit after commit (fatten). Each
#     refused with a log line at the central; nothing of it applied (of
#     fatten, what came before the bound); `ssp verify` passes.
#  2. A commit that cannot be merged (poison: one new record, a person then
#     a group). Refused alone, not wedging the session that carries it.
#     Cases 1 and 2 go through a relay (enrolled --role relay), which holds
#     them without reading them and offers them to the central in every
#     session; an honest member's records written afterwards must still
#     reach the central through that relay.
#  3. MARKs from a peer that never reads the DONEs they ask for (markflood).
#  4. Frames of one-byte commits, every one refused (junk).
#     For 3 and 4 the central's VmHWM, reset before each, rises by less
#     than RISE_MAX_KB, and it answers `ssp status` during and after.
#  5. A HELLO of 57,500 streams, also aimed at one slot of the session's
#     index (bighello [collide]): answered within LATENCY_MAX_MS.
. "$(dirname "$0")/lib.sh"
PEERKIT=${SSP_PEERKIT:-$SSP_BIN/tests/peerkit}
[ -x "$PEERKIT" ] || fail "no peerkit at $PEERKIT; build it, or set SSP_PEERKIT"

# How far the central's peak RSS may rise during a flood over what it held
# before (its store's pages it has touched included). What a peer can make
# it hold: writes to the peer up to 8 MiB (node/net/peer.c), a read of 256
# KiB and the answers to it, 64 refusals described in a batch. Before the
# fixes a MARK flood rose without end and, with the queue counted in bytes
# alone, still to 137 MiB; 8 frames of junk to 316 MiB, and to 70 MiB with
# the session ended after 1000 refusals but every refusal described. Under
# AddressSanitizer each allocation also costs shadow memory, and freed
# memory is held in a quarantine (256 MiB unless told): held to 32 MiB here,
# and the bound is 8 times as large (a MARK flood rose by 78 MiB).
RISE_MAX_KB=$((24 * 1024))
# How long the central may take to answer (twice under ASan): a HELLO aimed
# at one slot of the old index held it 11 s.
LATENCY_MAX_MS=3000
case "$(nm -D "$SSPD" 2>/dev/null)" in
*__asan_init*)
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=32
    RISE_MAX_KB=$((8 * RISE_MAX_KB))
    LATENCY_MAX_MS=$((2 * LATENCY_MAX_MS))
    ;;
esac

kit() { OUT=$("$PEERKIT" "$@" 2>&1) || fail "peerkit $*: $OUT"; }
state() { json_get "$(on "$1" --json status)" '"%d %d" % (j["commits"], j["records"])'; }
pid_of() { head -c 32 "$T/$1/sspd.lock" | tr -dc 0-9; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
# Resets the peak RSS of process $1 to what it holds now (proc(5), clear_refs),
# and keeps that in BASE_KB.
reset_hwm() {
    echo 5 >"/proc/$1/clear_refs" || fail "cannot reset the peak RSS of $1"
    BASE_KB=$(hwm_kb "$1")
}
# rise WHAT [BOUND_KB]: how far c's peak RSS rose since reset_hwm, in RISE_KB;
# fails past BOUND_KB (RISE_MAX_KB).
rise() {
    local peak bound=${2:-$RISE_MAX_KB}
    peak=$(hwm_kb "$CPID")
    RISE_KB=$((peak - BASE_KB))
    [ "$RISE_KB" -lt "$bound" ] ||
        fail "$1: c's peak RSS rose by $RISE_KB kB to $peak kB (bound $bound kB)"
}
ms_now() { date +%s%3N; }

# logged NODE FROM NEEDLE: NODE's log has a line with NEEDLE after line FROM (waits 10 s).
logged() {
    local since
    for _ in $(seq 100); do
        since=$(tail -n "+$(($2 + 1))" "$T/$1/sspd.log")
        case "$since" in *"$3"*) return 0 ;; esac
        sleep 0.1
    done
    fail "$1's sspd did not log '$3'; its log since:
$since"
}

# status_ms NODE: how long `ssp status` takes on NODE, in ms (it must answer).
status_ms() {
    local t0
    t0=$(ms_now)
    timeout 30 "$SSP" --dir "$T/$1" status >/dev/null || fail "$1 did not answer ssp status"
    echo $(($(ms_now) - t0))
}

# A central, a relay r that dials it, and an honest member h that reaches the
# central only through r.
CPORT=$(free_port)
RPORT=$(free_port)
central c "$CPORT" north
CID=$(node_id c)
RID=$(on r init --name r --kdf interactive)
on c enrol "$RID" --name r --scope north --role relay >/dev/null
on r start --listen "127.0.0.1:$RPORT" >/dev/null
on r peer add "$CID" "127.0.0.1:$CPORT" >/dev/null
on r sync >/dev/null
member h c north "127.0.0.1:$CPORT"
on h peer remove "$CID" >/dev/null
on h peer add "$RID" "127.0.0.1:$RPORT" >/dev/null
CPID=$(pid_of c)

# hostile NAME: a member enrolled in north that peerkit acts as (stopped). One
# each: the relay keeps a refused commit, so the next would clash with it.
hostile() {
    member "$1" c north "127.0.0.1:$CPORT"
    on "$1" stop >/dev/null
}

# Honest records reach the central through the relay: h writes N records
# with alias PREFIX1..N, syncs with r, r syncs with c, and c has them.
honest_through_relay() {
    local prefix=$1 n=$2 got
    for i in $(seq "$n"); do on h add person alias="$prefix$i" >/dev/null; done
    on h sync >/dev/null || fail "h cannot sync with the relay after $prefix"
    on r sync >/dev/null || fail "the relay cannot sync with c after $prefix"
    got=$(json_get "$(on c --json list person --scope north)" \
        "len([r for r in j if r['fields']['alias'].startswith('$prefix')])")
    [ "$got" = "$n" ] || fail "$n records of h went through the relay after $prefix; c has $got"
}

# via_relay NAME NEEDLE CMD: peerkit, as hostile member NAME, gives the relay a
# crafted commit (CMD); r forwards it, c refuses it with NEEDLE in its log and
# applies nothing of it; both stores verify; the record is not at c.
via_relay() {
    local name=$1 needle=$2 cmd=$3 before lines rec
    hostile "$name"
    before=$(state c)
    lines=$(wc -l <"$T/c/sspd.log")
    kit --dir "$T/$name" "$cmd" "127.0.0.1:$RPORT" "$RID" north
    contains "$OUT" "ack 1"
    case "$OUT" in *notice*) fail "the relay, which cannot read north, refused it: $OUT" ;; esac
    on r sync >/dev/null || fail "$cmd: the relay's sync with c failed"
    logged c "$lines" "$needle"
    [ "$(state c)" = "$before" ] || fail "$cmd: c's store changed ($before -> $(state c))"
    on c verify >/dev/null || fail "$cmd: c's store no longer verifies"
    on r verify >/dev/null || fail "$cmd: r's store no longer verifies"
    rec=$(printf '%s\n' "$OUT" | sed -n 's/^record //p' | head -1)
    expect_fail 1 on c show "$rec"
    contains "$LAST_ERR" "no record"
    honest_through_relay "$cmd" 2
}

honest_through_relay warmup 1

# 2. poison: both ops fit the schema; merging the group into the person fails.
via_relay mp "cannot be merged into record" poison
# 1. bloat: 394 ops of 255 made-up fields, refused by the schema check.
via_relay mb "does not fit the schema: person: unknown field 'f000'" bloat
# 1. conflicts: 4095 updates naming no base, 12,283 conflicts; refused at 10,000.
via_relay mc "cannot be merged into record" conflicts
# Every session since offered the relay's refused commits to c again: each
# was refused there, and none ended the session.
grep -q "sent more than" "$T/c/sspd.log" && fail "a session was dropped: $(grep "sent more than" "$T/c/sspd.log")"

# 1. fatten, straight to c: 16 KiB conflicts pile up until 4 MiB, then the
# next commit is refused. What was applied is a record c can still show.
# Applying a commit to it holds the record some 4 times (decoded, sealed, its
# old and new pages in the map) and the commit: 4 times RISE_MAX_KB will do;
# without the bound each commit took some 7 MiB more (486 MiB after 64).
hostile mf
# First the conflicts commit straight to c, timed: its 4096 ops on one record
# are merged in memory and the record sealed once (sealing it after each op
# took 8 s a commit).
before=$(state c)
t0=$(ms_now)
kit --dir "$T/mf" conflicts "127.0.0.1:$CPORT" "$CID" north
took=$(($(ms_now) - t0))
contains "$OUT" "notice SCHEMA: "
contains "$OUT" "ack 1"
[ "$(state c)" = "$before" ] || fail "conflicts: c's store changed"
echo "conflicts: refused in $took ms"
[ "$took" -lt "$LATENCY_MAX_MS" ] || fail "conflicts: c took $took ms to refuse it"
reset_hwm "$CPID"
before=$(state c)
lines=$(wc -l <"$T/c/sspd.log")
kit --dir "$T/mf" fatten "127.0.0.1:$CPORT" "$CID" north
logged c "$lines" "cannot be merged into record"
contains "$OUT" "1 refused"
applied=$(printf '%s\n' "$OUT" | sed -n 's/^sent \([0-9]*\) commits, 1 refused/\1/p')
[ "$applied" -ge 3 ] && [ "$applied" -le 6 ] || fail "fatten: $applied commits before the refusal: $OUT"
[ "$(state c)" = "$(( ${before% *} + applied - 1 )) $(( ${before#* } + 1 ))" ] ||
    fail "fatten: c went from $before to $(state c), $applied commits sent"
on c verify >/dev/null || fail "fatten: c's store no longer verifies"
rec=$(printf '%s\n' "$OUT" | sed -n 's/^record //p')
on c --json show "$rec" >"$T/fat.json" || fail "c cannot show the fattened record"
n=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["conflicts"]))' <"$T/fat.json")
[ "$n" -ge 150 ] && [ "$n" -le 256 ] || fail "fatten: the record kept $n conflicts"
rise fatten $((4 * RISE_MAX_KB))
echo "fatten: $((applied - 1)) commits applied, $n conflicts kept; c's peak RSS +$RISE_KB kB"

# 3. markflood: c stops reading a peer that does not read; meanwhile it
# serves others, and its memory stays flat.
hostile mm
reset_hwm "$CPID"
lines=$(wc -l <"$T/c/sspd.log")
"$PEERKIT" --dir "$T/mm" markflood "127.0.0.1:$CPORT" "$CID" 3000000 >"$T/flood.out" 2>&1 &
KP=$!
worst=0
while kill -0 "$KP" 2>/dev/null; do
    ms=$(status_ms c)
    [ "$ms" -gt "$worst" ] && worst=$ms
    sleep 0.2
done
wait "$KP" || fail "peerkit markflood: $(cat "$T/flood.out")"
OUT=$(cat "$T/flood.out")
contains "$OUT" "stalled after"
rise markflood
echo "markflood: $(sed -n 's/^stalled after //p' <<<"$OUT"); c's peak RSS +$RISE_KB kB, status in at most $worst ms"
[ "$worst" -lt "$LATENCY_MAX_MS" ] || fail "markflood: c took $worst ms to answer status"
status_ms c >/dev/null

# 4. junk: 8 frames of 65535 one-byte commits in one transaction; refusals
# are kept to 64 a batch, and the session ends past 1000 refused.
reset_hwm "$CPID"
before=$(state c)
lines=$(wc -l <"$T/c/sspd.log")
kit --dir "$T/mm" junk "127.0.0.1:$CPORT" "$CID" 8
logged c "$lines" "sent more than 1000 commits this node refused; dropping it"
contains "$OUT" "closed by the peer"
rise junk
echo "junk: $(grep -c "not a well-formed commit" <(tail -n "+$((lines + 1))" "$T/c/sspd.log")) refusals logged; c's peak RSS +$RISE_KB kB"
[ "$(state c)" = "$before" ] || fail "junk: c's store changed"
status_ms c >/dev/null

# 5. bighello: 57,500 streams, then aimed at one slot. peerkit times the DONE
# that answers its MARK after the HELLO; status is asked meanwhile.
for how in plain collide; do
    "$PEERKIT" --dir "$T/mm" bighello "127.0.0.1:$CPORT" "$CID" \
        $([ $how = collide ] && echo collide) >"$T/hello.out" 2>&1 &
    KP=$!
    worst=0
    while kill -0 "$KP" 2>/dev/null; do
        ms=$(status_ms c)
        [ "$ms" -gt "$worst" ] && worst=$ms
        sleep 0.1
    done
    wait "$KP" || fail "peerkit bighello $how: $(cat "$T/hello.out")"
    OUT=$(cat "$T/hello.out")
    contains "$OUT" "sent a hello of 57500 streams"
    done_ms=$(sed -n 's/^done after \([0-9]*\) ms/\1/p' <<<"$OUT")
    [ -n "$done_ms" ] || fail "bighello $how: no DONE came: $OUT"
    echo "bighello $how: DONE after $done_ms ms; status in at most $worst ms"
    [ "$done_ms" -lt "$LATENCY_MAX_MS" ] || fail "bighello $how: c took $done_ms ms"
    [ "$worst" -lt "$LATENCY_MAX_MS" ] || fail "bighello $how: c took $worst ms to answer status"
done

# After all of it the honest path still works, and both stores verify.
honest_through_relay final 2
on c verify >/dev/null || fail "c's store does not verify at the end"
on r verify >/dev/null || fail "r's store does not verify at the end"
on c stop >/dev/null
on r stop >/dev/null
on h stop >/dev/null
echo "hostile load: ok"
