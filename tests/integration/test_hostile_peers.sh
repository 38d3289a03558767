#!/usr/bin/env bash
# Hostile peers against real sspd processes. peerkit (tests/tools/peerkit.c)
# speaks the real handshake and sync messages but says what no node should:
# each attack must be refused with a clear line in the receiving sspd's log,
# and nothing of it applied: the receiver's commits and records unchanged,
# `ssp verify` passing, the record the attack carried absent. The attacks: an
# unknown node key, a member writing a scope it may not, a forged signature, a
# broken hash chain, replayed commits, oversize frames, garbage (before and
# inside the channel), a claimed node id (as client and as server), and a key
# epoch the scope never had. Then two that are accepted: a commit of a newer
# schema (stored, not applied) and the control, an unspoiled crafted commit.
. "$(dirname "$0")/lib.sh"
PEERKIT=${SSP_PEERKIT:-$SSP_BIN/tests/peerkit}
[ -x "$PEERKIT" ] || fail "no peerkit at $PEERKIT; build it, or set SSP_PEERKIT"

on() { local dir=$1; shift; "$SSP" --dir "$T/$dir" "$@"; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# What a refusal must leave alone: "commits records".
state() { json_get "$(on "$1" --json status)" '"%d %d" % (j["commits"], j["records"])'; }

# A central with two areas; member a in north has synced two records of its own.
PORT=$(free_port)
on c init --name c --central --scope north,south --kdf interactive >/dev/null
on c start --listen "127.0.0.1:$PORT" >/dev/null
CID=$(json_get "$(on c --json status)" 'j["node_id"]')
AID=$(on a init --name a --kdf interactive)
on c enrol "$AID" --name a --scope north >/dev/null
on a start >/dev/null
on a peer add "$CID" "127.0.0.1:$PORT" >/dev/null
on a sync >/dev/null
r1=$(json_get "$(on a --json add person alias=R1)" 'j["id"]')
on a add person alias=R2 >/dev/null
on a sync >/dev/null
on a stop >/dev/null
# The two persons and the audit entry of each add.
[ "$(json_get "$(on c --json status)" 'j["records"]')" = 4 ] || fail "a's records did not reach c"
CS=${CID:0:8}
AS=${AID:0:8}

# kit ARGS...: runs peerkit; its output in OUT.
kit() { OUT=$("$PEERKIT" "$@" 2>&1) || fail "peerkit $*: $OUT"; }

# logged NODE FROM NEEDLE: NODE's log has a line with NEEDLE after line FROM (waits 3 s).
logged() {
    local since
    for _ in $(seq 30); do
        since=$(tail -n "+$(($2 + 1))" "$T/$1/sspd.log")
        case "$since" in *"$3"*) return 0 ;; esac
        sleep 0.1
    done
    fail "$1's sspd did not log '$3'; its log since:
$since"
}

# attack NEEDLE PEERKIT_ARGS...: runs the attack on c, which must log a line
# with NEEDLE and change nothing; the record peerkit made, if any, is not there.
attack() {
    local needle=$1; shift
    local before lines rec
    before=$(state c)
    lines=$(wc -l <"$T/c/sspd.log")
    kit "$@"
    logged c "$lines" "$needle"
    [ "$(state c)" = "$before" ] || fail "peerkit $*: c's store changed ($before -> $(state c))"
    on c verify >/dev/null || fail "peerkit $*: c's store no longer verifies"
    rec=$(printf '%s\n' "$OUT" | sed -n 's/^record //p')
    if [ -n "$rec" ]; then
        expect_fail 1 on c show "$rec"
        contains "$LAST_ERR" "no record"
    fi
}
# The connection must have ended without the central ever talking.
shut_out() {
    contains "$OUT" "closed by the peer"
    case "$OUT" in *"hello from"*) fail "the central talked to it: $OUT" ;; esac
}
# The commit sent must have been refused with a NOTICE, and the frame still acked.
noticed() {
    contains "$OUT" "notice $1: "
    contains "$OUT" "ack 1"
}
ka() { echo --dir "$T/a" "$1" "127.0.0.1:$PORT" "$CID" ${2:+"$2"}; }
central() { echo "$1" "127.0.0.1:$PORT" "$CID" ${2:+"$2"}; }

# peerkit itself works: as a it is let in.
kit $(ka hello)
contains "$OUT" "hello from $CS"

# 1. A node the roster does not know: refused before the central says a word.
attack "it may not connect to this node" $(central hello)
shut_out
who=$(printf '%s\n' "$OUT" | sed -n 's/^as //p')
grep -qF "peer ${who:0:8}: it may not connect" "$T/c/sspd.log" || fail "the log does not name it"

# 2. Member a writes south, which it may not.
attack "commit south/$AS seq 1 refused: the sender $AS may not hold scope 'south'" \
    $(ka write south)
noticed DENIED

# 3. A forged signature on a's next commit.
attack "refused: its signature or ops digest does not verify (forged or damaged)" $(ka forge north)
noticed AUTH

# 4. A broken hash chain.
attack "the hash chain is broken" $(ka chain north)
noticed AUTH

# 5. a's two commits, replayed: ignored (not applied twice), acked, and logged.
attack "peer $AS: 2 commits already held were ignored" $(ka replay north)
contains "$OUT" "ack 1"
case "$OUT" in *notice*) fail "a duplicate was refused, not ignored: $OUT" ;; esac
[ "$(json_get "$(on c --json history "$r1")" 'len(j["versions"])')" = 1 ] || fail "applied twice"

# 6. Frames over the bound, in the handshake and in the open channel.
attack "connection refused: a frame is larger than 256 bytes, the bound" $(central oversize hs)
shut_out
attack "peer $AS: connection refused: a frame is larger than" $(ka oversize open)
contains "$OUT" "closed by the peer"

# 7. Garbage: for a handshake, as a frame of the channel, sealed as a sync message.
attack "its first handshake message is malformed" $(central garbage hs)
shut_out
attack "connection refused: peer $AS: a message does not authenticate" \
    $(ka garbage frame)
contains "$OUT" "closed by the peer"
attack "connection refused: peer $AS sent a malformed message" $(ka garbage msg)
contains "$OUT" "closed by the peer"

# 8a. Claiming to be a without its key: the handshake fails at its signature.
attack "connection refused: peer $AS: its handshake signature does not verify" \
    $(central claim "$AID")
shut_out

# 9. A key epoch the scope never had: refused (kept, it could never be opened).
attack "which this node does not hold" $(ka epoch north)
noticed AUTH

# 8b. A server answering as another node than the one dialled. b syncs once with
# the real central, then dials peerkit, which answers as itself.
BID=$(on b init --name b --kdf interactive)
on c enrol "$BID" --name b --scope south >/dev/null
on b start >/dev/null
on b peer add "$CID" "127.0.0.1:$PORT" >/dev/null
on b sync >/dev/null
on b peer remove "$CID" >/dev/null
b_before=$(state b)
FAKE=$(free_port)
timeout 20 "$PEERKIT" serve "127.0.0.1:$FAKE" "$CID" >"$T/serve.out" 2>&1 &
for _ in $(seq 50); do grep -q listening "$T/serve.out" && break; sleep 0.1; done
lines=$(wc -l <"$T/b/sspd.log")
on b peer add "$CID" "127.0.0.1:$FAKE" >/dev/null
expect_fail 1 on b sync
wait $! || fail "peerkit serve: $(cat "$T/serve.out")"
imp=$(sed -n 's/^as //p' "$T/serve.out")
logged b "$lines" "connection refused: peer claims to be ${imp:0:8}, expected $CS"
OUT=$(cat "$T/serve.out")
contains "$OUT" "answered as ${imp:0:8}"
contains "$OUT" "closed by the peer"
case "$OUT" in *"handshake completed"*) fail "b completed a handshake with an impostor" ;; esac
[ "$(state b)" = "$b_before" ] || fail "b's store changed"
on b verify >/dev/null || fail "b's store no longer verifies"

# Stored, not misapplied: a commit of a schema newer than ours is kept (a newer
# node may have written it) but not applied, and verify still passes.
before=$(state c)
kit $(ka schema network)
contains "$OUT" "ack 1"
rec=$(printf '%s\n' "$OUT" | sed -n 's/^record //p')
expect_fail 1 on c show "$rec"
[ "$(state c)" = "$(( ${before% *} + 1 )) ${before#* }" ] || fail "schema: $before -> $(state c)"
on c verify >/dev/null || fail "a commit of a newer schema makes verify fail"

# The control: peerkit's commits are refused for what was spoiled in them, not
# for being peerkit's. The same commit, unspoiled, is applied.
before=$(state c)
kit $(ka write north)
contains "$OUT" "ack 1"
case "$OUT" in *notice*) fail "the control was refused: $OUT" ;; esac
rec=$(printf '%s\n' "$OUT" | sed -n 's/^record //p')
contains "$(on c show "$rec")" "peerkit write"
[ "$(state c)" != "$before" ] || fail "the control changed nothing"
on c verify >/dev/null || fail "c's store does not verify after the control"
on c stop >/dev/null
on b stop >/dev/null
echo "hostile peers: ok"
