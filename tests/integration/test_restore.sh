#!/usr/bin/env bash
# A node restored from an older copy of its own directory (DESIGN §13):
#  1. restored and synced before writing: both sides see it, its peers send
#     back what it lost, and it is whole again;
#  2. restored and written to before it synced: its new commits take seq
#     numbers the network already holds. Both sides report it, the central
#     quarantines the stream and merges nothing of the other history, and
#     the node refuses further writes to the scope until it is recovered.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
central c "$port" north
member x c north "127.0.0.1:$port"
X=$(node_id x)

quarantine() { json_get "$(on "$1" --json status)" "[(q['kind'], q['origin']) for q in j['quarantine']]"; }

for i in 1 2 3; do on x add person alias="early$i" >/dev/null; done
on x sync >/dev/null
on x stop >/dev/null
cp -a "$T/x" "$T/x.copy1"

# ---- 1: restored, synced before writing ----
on x start >/dev/null
for i in 1 2 3 4; do on x add person alias="late$i" >/dev/null; done
on x sync >/dev/null
[ "$(json_get "$(on c --json list person)" 'len(j)')" -eq 7 ] || fail "the central lacks x's writes"
on x stop >/dev/null
cp -a "$T/x" "$T/x.copy2"
rm -rf "$T/x"
cp -a "$T/x.copy1" "$T/x"
on x start >/dev/null
on x sync >/dev/null
grep -q "has seen seq 7 of this node's own stream north" "$T/x/sspd.log" ||
    fail "the restored node did not notice it was behind: $(cat "$T/x/sspd.log")"
grep -q "holds less of its own stream north" "$T/c/sspd.log" ||
    fail "the central did not notice x was restored"
grep -q "whole again up to seq 7" "$T/x/sspd.log" || fail "x did not get its lost commits back"
[ "$(json_get "$(on x --json list person)" 'len(j)')" -eq 7 ] || fail "x did not get its records back"
[ "$(state_of x north)" = "$(state_of c north)" ] || fail "x and the central differ after the restore"
[ "$(quarantine x)" = "[]" ] || fail "x still reports: $(quarantine x)"
[ "$(quarantine c)" = "[]" ] || fail "the central still reports: $(quarantine c)"
on x add person alias=after-restore >/dev/null
on x sync >/dev/null
[ "$(state_of x north)" = "$(state_of c north)" ] || fail "x and the central differ after a new write"
on x verify >/dev/null
on c verify >/dev/null

# ---- 2: restored, written to before it synced ----
on x stop >/dev/null
cp -a "$T/x" "$T/x.copy3"
on x start >/dev/null
on x add person alias=seen-by-central >/dev/null
on x sync >/dev/null
on x stop >/dev/null
rm -rf "$T/x"
cp -a "$T/x.copy3" "$T/x"
on c stop >/dev/null
on x start >/dev/null
diverged=$(json_get "$(on x --json add person alias=diverged)" 'j["id"]')
on c start --listen "127.0.0.1:$port" >/dev/null
on x sync --timeout 10 >/dev/null 2>&1 || true
sleep 1
contains "$(quarantine c)" "('diverged', '$X')"
contains "$(quarantine x)" "('diverged', '$X')"
contains "$(on c status)" "two histories at seq"
contains "$(on x status)" "two histories at seq"
expect_fail 1 on c show "$diverged"
expect_fail 1 on x add person alias=refused
contains "$LAST_ERR" "run 'ssp recover'"
# A read there cannot leave its audit entry in that stream: it is not answered either.
expect_fail 1 on x show "$diverged"
contains "$LAST_ERR" "not answered: its audit entry could not be written"
on x verify >/dev/null
on c verify >/dev/null

# ---- recovery: the network's history is taken, x's own change written again ----
contains "$(on x recover)" "1 of this node's own streams are in recovery"
for _ in $(seq 60); do
    on x sync --timeout 10 >/dev/null 2>&1 || true
    [ "$(quarantine x)" = "[]" ] && [ "$(quarantine c)" = "[]" ] && break
    sleep 0.5
done
[ "$(quarantine x)" = "[]" ] || fail "x did not recover: $(quarantine x)"
[ "$(quarantine c)" = "[]" ] || fail "the central still quarantines x: $(quarantine c)"
grep -q "set aside" "$T/x/sspd.log" || fail "x did not set its diverged commit aside"
on x sync >/dev/null
contains "$(on c show "$diverged")" "diverged"
contains "$(on x show "$diverged")" "diverged"
[ "$(json_get "$(on c --json list person)" 'len(j)')" -eq 10 ] || fail "the central lacks a record"
# The reads above left audit entries on both: in sync again before comparing.
on x sync >/dev/null
[ "$(state_of x north)" = "$(state_of c north)" ] || fail "x and the central differ after recovery"
on x add person alias=after-recovery >/dev/null
on x sync >/dev/null
[ "$(state_of x north)" = "$(state_of c north)" ] || fail "x and the central differ after a write"
contains "$(on x recover)" "nothing to recover"
on x verify >/dev/null
on c verify >/dev/null
# x's audit chain goes on from the entries its peers held, on both nodes.
contains "$(on x audit verify)" "audit trail intact"
contains "$(on c audit verify)" "audit trail intact"
echo "ok: restored nodes are detected on both sides, nothing is merged silently, and recovery loses nothing"
