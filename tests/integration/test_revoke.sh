#!/usr/bin/env bash
# Revocation of a lost laptop (B) with real sspd processes: the central and A
# get new key epochs of B's scopes that B is not granted; what B writes after
# its removal (offline, its clock later) is refused by the central and by A,
# and A, which took some of it before it heard of the removal, drops it, so
# that A and the central end with the same state; B learns of its removal
# from its peers and purges its data; 'ssp rotate network' keeps members
# reading.
. "$(dirname "$0")/lib.sh"

cport=$(free_port)
aport=$(free_port)
central c "$cport" north,south
member a c north "127.0.0.1:$cport"
member b c north "127.0.0.1:$cport"
cid=$(node_id c)
aid=$(node_id a)
bid=$(node_id b)
# A takes connections from B; B reaches only A for now, A nobody.
on a stop >/dev/null
on a start --listen "127.0.0.1:$aport" >/dev/null
on a peer remove "$cid" >/dev/null
on b peer remove "$cid" >/dev/null
on b peer add "$aid" "127.0.0.1:$aport" >/dev/null

canary=$(json_get "$(on b --json add person alias=ZanzibarCanary)" 'j["id"]')
on b sync >/dev/null
on a show "$canary" | grep -q ZanzibarCanary || fail "a did not get b's record before the revocation"
on b stop >/dev/null

epoch() { json_get "$(on "$1" --json status)" "j['key_epochs']['$2']"; }
log_has() { grep -q -- "$2" "$T/$1/sspd.log" || fail "$1's log does not say: $2"; }

# ---- what cannot be revoked ----
expect_fail 1 on c revoke "$cid"
contains "$LAST_ERR" "cannot revoke itself"
expect_fail 1 on a revoke "$bid"
contains "$LAST_ERR" "only the network's central"
expect_fail 1 on c revoke AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA0
contains "$LAST_ERR" "not in the roster"

# ---- the revocation ----
out=$(on c --json revoke "$bid" --reason "laptop stolen")
[ "$(json_get "$out" "{r['scope']: r['epoch'] for r in j['rotated']}")" = "{'north': 2, 'network': 2}" ] ||
    fail "revoke rotated $(json_get "$out" "j['rotated']")"
[ "$(json_get "$out" "j['grants']")" -eq 2 ] || fail "grants $(json_get "$out" "j['grants']"), wanted 2 (A's: north, network)"
[ "$(epoch c north)" -eq 2 ] && [ "$(epoch c network)" -eq 2 ] && [ "$(epoch c south)" -eq 1 ] ||
    fail "the central's key epochs after the revocation"
[ "$(json_get "$(on c --json roster)" "[n['role'] for n in j['nodes'] if n['node']=='$bid'][0]")" = removed ] ||
    fail "the roster does not say b was removed"
expect_fail 1 on c revoke "$bid"
contains "$LAST_ERR" "removed already"
expect_fail 1 on c enrol "$bid" --name b2 --scope north
contains "$LAST_ERR" "identity is burnt"
[ "$(epoch a north)" -eq 1 ] || fail "a heard of the revocation too early: the convergence case is not tested"

# ---- B writes after its removal, its clock later; A, not knowing, takes it ----
later() { echo $(( $(date +%s%3N) + 60000 )); }
SSP_TEST_CLOCK_MS=$(later) on b start >/dev/null
late=$(json_get "$(on b --json add person alias=LateCanary)" 'j["id"]')
on b sync >/dev/null
on a show "$late" | grep -q LateCanary || fail "a did not take b's late record (the case to test)"
# B gets no peer: what it writes next is written before it hears of anything.
on b peer remove "$aid" >/dev/null
on b stop >/dev/null
cp -a "$T/b" "$T/b.copy" # a copy of the stolen disk, as it is now

# A hears of the removal from the central: it drops the late commit.
on a peer add "$cid" "127.0.0.1:$cport" >/dev/null
on a sync >/dev/null
log_has a "dropped 1 commits that removed nodes made after their removal"
expect_fail 1 on a show "$late"
on a show "$canary" | grep -q ZanzibarCanary || fail "b's commit from before its removal was dropped"
[ "$(epoch a north)" -eq 2 ] && [ "$(epoch a network)" -eq 2 ] || fail "a lacks the new key epochs"
[ "$(state_of a north)" = "$(state_of c north)" ] || fail "a and the central differ after the drop"
on a verify >/dev/null || fail "a's store does not verify after the drop"

# New commits of A and the central use the new epoch.
ida=$(json_get "$(on a --json add person alias=AfterRevokeA)" 'j["id"]')
idc=$(json_get "$(on c --json add person --scope north alias=AfterRevokeC)" 'j["id"]')
[ "$(json_get "$(on a --json history "$ida")" "j['versions'][0]['key_epoch']")" -eq 2 ] ||
    fail "a's new commit is not sealed under epoch 2"
[ "$(json_get "$(on c --json history "$idc")" "j['versions'][0]['key_epoch']")" -eq 2 ] ||
    fail "the central's new commit is not sealed under epoch 2"
on a sync >/dev/null
on c show "$ida" | grep -q AfterRevokeA || fail "the central cannot read a's new record"
on a show "$idc" | grep -q AfterRevokeC || fail "a cannot read the central's new record"

# ---- B syncs with the central: refused; B learns of its removal and purges ----
before=$(state_of c north)
SSP_TEST_CLOCK_MS=$(later) on b start >/dev/null
on b add person alias=LaterStill >/dev/null
on b peer add "$cid" "127.0.0.1:$cport" >/dev/null
on b sync "$cid" >/dev/null || true
log_has c "was removed from the network: nothing is taken from it"
expect_fail 1 on c show "$late"
[ "$(state_of c north)" = "$before" ] || fail "the central applied something of b's"
for _ in $(seq 50); do
    [ "$(json_get "$(on b --json status)" 'j["role"]')" = removed ] && break
    sleep 0.1
done
st=$(on b --json status)
[ "$(json_get "$st" 'j["role"]')" = removed ] || fail "b's status says $(json_get "$st" 'j["role"]'), not removed"
[ "$(json_get "$st" 'j["removed_at"]')" != None ] || fail "b's status gives no removal time"
[ "$(json_get "$st" 'j["records"]')" -eq 0 ] || fail "b kept $(json_get "$st" 'j["records"]') records"
[ "$(json_get "$st" 'j["scopes"]')" = "[]" ] || fail "b kept scope keys: $(json_get "$st" 'j["scopes"]')"
on b status | grep -q "this node was removed from the network" || fail "b's text status does not say it was removed"
log_has b "this node was removed from the network at"
log_has b "purged"
[ "$(grep -c "this node was removed from the network" "$T/b/sspd.log")" -eq 1 ] || fail "b said it twice"
[ "$(json_get "$(on b --json list person)" 'len(j)')" -eq 0 ] || fail "b still lists records"
expect_fail 1 on b add person alias=AfterPurge
contains "$LAST_ERR" "removed from the network"
on b verify >/dev/null || fail "b's store does not verify after the purge"
# Nothing of the purged data is left in the file: not the value (never stored
# in clear), not even the record ids (which are, in keys, until the purge).
holds() {
    python3 - "$1" "$2" <<'EOF'
import sys
alpha = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
data = open(sys.argv[1], "rb").read()
v = 0
for ch in sys.argv[2]:
    v = v * 32 + alpha.index(ch)
raw = (v >> 2).to_bytes(16, "big")  # 26 characters carry 130 bits for 16 bytes
sys.exit(0 if raw in data else 1)
EOF
}
holds "$T/b.copy/data.mdb" "$canary" || fail "the id search does not work: the copy lacks the canary's id"
holds "$T/b/data.mdb" "$canary" && fail "b's data.mdb still holds the canary record's id"
holds "$T/b/data.mdb" "$late" && fail "b's data.mdb still holds the late record's id"
! grep -q ZanzibarCanary "$T/b/data.mdb" || fail "b's data.mdb holds the canary value"
on b stop >/dev/null

# ---- the copy of B's disk syncs with A, which knows now: refused there too ----
rm -rf "$T/b"
mv "$T/b.copy" "$T/b"
before=$(state_of a north)
SSP_TEST_CLOCK_MS=$(later) on b start >/dev/null
on b add person alias=FromTheCopy >/dev/null
on b peer add "$aid" "127.0.0.1:$aport" >/dev/null
on b sync "$aid" >/dev/null || true
log_has a "was removed from the network: nothing is taken from it"
[ "$(state_of a north)" = "$before" ] || fail "a applied something of b's copy"
[ "$(state_of a north)" = "$(state_of c north)" ] || fail "a and the central differ"
for _ in $(seq 50); do
    [ "$(json_get "$(on b --json status)" 'j["role"]')" = removed ] && break
    sleep 0.1
done
[ "$(json_get "$(on b --json status)" 'j["records"]')" -eq 0 ] || fail "the copy did not purge"

# ---- rotating network: members still read new records ----
out=$(on c --json rotate network)
[ "$(json_get "$out" "j['rotated'][0]['epoch']")" -eq 3 ] || fail "network rotated to $(json_get "$out" "j['rotated']")"
[ "$(json_get "$out" "j['grants']")" -eq 1 ] || fail "rotate network granted $(json_get "$out" "j['grants']"), wanted 1 (a)"
on c add member --scope network name="Nora Network" >/dev/null
on a sync >/dev/null
[ "$(epoch a network)" -eq 3 ] || fail "a did not get network's epoch 3"
on a list member | grep -q "Nora Network" || fail "a cannot read the new network record"
on a add member --scope network name="Anders Area" >/dev/null
on a sync >/dev/null
on c list member | grep -q "Anders Area" || fail "the central cannot read a's new network record"
[ "$(state_of a network)" = "$(state_of c network)" ] || fail "network differs between a and the central"
expect_fail 1 on c rotate roster
expect_fail 1 on c rotate nowhere
contains "$LAST_ERR" "no scope"
# ---- a member whose clock is far ahead: the central took what it wrote "later" ----
member d c north "127.0.0.1:$cport"
did=$(node_id d)
on d stop >/dev/null
SSP_TEST_CLOCK_MS=$(( $(date +%s%3N) + 3600 * 1000 )) on d start >/dev/null
future=$(json_get "$(on d --json add person alias=FromTheFuture)" 'j["id"]')
on d sync >/dev/null
on c show "$future" | grep -q FromTheFuture || fail "the central did not take d's record"
on a sync >/dev/null
on c revoke "$did" >/dev/null
log_has c "dropped 1 commits the removed node made after its removal"
expect_fail 1 on c show "$future"
on c verify >/dev/null || fail "the central's store does not verify after the drop"
on a sync >/dev/null
expect_fail 1 on a show "$future"
[ "$(state_of a north)" = "$(state_of c north)" ] || fail "a and the central differ after d's removal"
echo "ok: b revoked; keys rotated; b's late commits refused by the central and a, dropped by a; b purged"
