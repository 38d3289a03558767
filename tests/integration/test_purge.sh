#!/usr/bin/env bash
# Purge (DESIGN §9): `ssp purge` on the central deletes a record everywhere.
# Nodes: the central C, a blind relay R carrying north, an area member N that
# reaches the network only through R, and an area member B that is offline
# during the purge and works by bundle: it edits the record after the purge
# (a late op, which must be stored redacted and never applied) and gets the
# purge later by bundle. On every node afterwards the record is gone (show
# and history say it was purged), the store verifies, the north state hashes
# agree, and no file of the node directory holds any of the record's values,
# raw or decrypted with any key the node holds (ssp_scan).
. "$(dirname "$0")/lib.sh"
SCAN=${SSP_SCAN:-$SSP_BIN/ssp_scan}
[ -x "$SCAN" ] || fail "no ssp_scan at $SCAN (build the ssp_scan target, or set SSP_SCAN)"

cport=$(free_port)
rport=$(free_port)
central c "$cport" north
cid=$(node_id c)
rid=$(on r init --name relay --kdf interactive)
on c enrol "$rid" --name relay --scope north --role relay >/dev/null
on r start --listen "127.0.0.1:$rport" >/dev/null
on r peer add "$cid" "127.0.0.1:$cport" >/dev/null
on r sync >/dev/null
nid=$(on n init --name north-laptop --kdf interactive)
on c enrol "$nid" --name north-laptop --scope north >/dev/null
on r sync >/dev/null
on n start >/dev/null
on n peer add "$rid" "127.0.0.1:$rport" --network "$cid" >/dev/null
on n sync >/dev/null
bid=$(on b init --name north-bus --kdf interactive)
on c enrol "$bid" --name north-bus --scope north >/dev/null
on b start >/dev/null

# B gets everything by bundle, and answers by bundle.
to_b() {
    on c bundle export --for "$bid" -o "$T/c2b" >/dev/null
    on b bundle import --central "$cid" "$T/c2b" >/dev/null
}
from_b() {
    on b bundle export --for "$cid" -o "$T/b2c" >/dev/null
    on c bundle import "$T/b2c" >/dev/null
}
everywhere() {
    on r sync >/dev/null
    on n sync >/dev/null
    on r sync >/dev/null
}

# N writes the record to purge (canary values found nowhere else), and one to keep.
id=$(json_get "$(on n --json add person --scope north alias=CANARYOSPREY school=CANARYFJORD-SCHOOL)" 'j["id"]')
keep=$(json_get "$(on n --json add person --scope north alias=KEEPERLYNX)" 'j["id"]')
on n set "$id" school=CANARYTUNDRA-SCHOOL >/dev/null
everywhere
to_b
for x in c r n b; do on "$x" sync >/dev/null 2>&1 || true; done
on c show "$id" | grep -q CANARYTUNDRA || fail "the central does not show N's record"
on b show "$id" | grep -q CANARYTUNDRA || fail "B did not get the record by bundle"

# Refusals change nothing: not on the central, no reason, an id not held.
expect_fail 1 on n purge "$id" --reason "retention"
contains "$LAST_ERR" central
expect_fail 1 on c purge "$id"
contains "$LAST_ERR" reason
other=$(json_get "$(on b --json add person --scope north alias=ELSEWHERE)" 'j["id"]')
expect_fail 1 on c purge "$other" --reason "retention"
contains "$LAST_ERR" "no record"
on c show "$id" | grep -q CANARYTUNDRA || fail "a refused purge changed the record"

# B, offline, changes the record after the purge: its op arrives late.
on c purge "$id" --reason "retention: concern closed 2019" | grep -q purged ||
    fail "ssp purge did not say it purged"
on b set "$id" school=CANARYLATE-SCHOOL >/dev/null
from_b
grep -q "ops of purged records arrived; stored redacted" "$T/c/sspd.log" ||
    fail "the central did not store B's late op redacted"
everywhere
to_b
everywhere
# Compared before the shows below, whose audit entries stay on each node until it syncs.
[ "$(state_of n north)" = "$(state_of c north)" ] || fail "north differs between N and the central"
[ "$(state_of b north)" = "$(state_of c north)" ] || fail "north differs between B and the central"

for x in c r n b; do
    expect_fail 1 on "$x" show "$id"
    contains "$LAST_ERR" "was purged at"
    contains "$LAST_ERR" "retention: concern closed 2019"
    expect_fail 1 on "$x" history "$id"
    contains "$LAST_ERR" "was purged at"
    [ "$x" = r ] || on "$x" show "$keep" | grep -q KEEPERLYNX || fail "$x lost the record that was kept"
done
echo "purged everywhere: $LAST_ERR"
expect_fail 1 on c purge "$id" --reason "again"
contains "$LAST_ERR" "was purged at"
# Nor does it come back under its id.
printf '{"type":"person","scope":"north","id":"%s","fields":{"alias":"CANARYAGAIN"}}\n' "$id" >"$T/again.jsonl"
expect_fail 1 on c import "$T/again.jsonl"
contains "$LAST_ERR" "was purged at"
expect_fail 1 on n set "$id" alias=CANARYAGAIN
contains "$LAST_ERR" "was purged at"
for x in c r n b; do
    on "$x" verify >/dev/null || fail "$x does not verify after the purge: $(on "$x" verify 2>&1)"
done

# Nothing of the record in any file of any node, raw or decrypted.
for x in c r n b; do on "$x" stop >/dev/null; done
if grep -H "may remain" "$T"/*/sspd.log; then fail "a compaction after the purge failed"; fi
for x in c r n b; do
    grep -q "purged 1 records" "$T/$x/sspd.log" || fail "$x did not log the purge"
done
for x in c r n b; do
    if grep -rl -a -i -E "CANARY(OSPREY|FJORD|TUNDRA|LATE|AGAIN)" "$T/$x"; then
        fail "$x's directory holds a canary in clear (files above)"
    fi
    out=$("$SCAN" "$T/$x" CANARYOSPREY CANARYFJORD CANARYTUNDRA CANARYLATE CANARYAGAIN 2>&1) ||
        fail "ssp_scan finds the purged record on $x: $out"
done
# The scan does find what was kept, where a key opens it.
for x in c n b; do
    rc=0
    "$SCAN" "$T/$x" KEEPERLYNX >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 1 ] || fail "ssp_scan does not find the kept record on $x (exit $rc)"
done
for x in c r n b; do on "$x" start >/dev/null; done
on c verify >/dev/null || fail "the central does not verify after a restart"
echo "ok: purged on the central, the relay, N and B (by bundle, with a late op); no trace left"
