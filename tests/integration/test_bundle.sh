#!/usr/bin/env bash
# Bundles (DESIGN §7): an area that never has a link to the central joins the
# network and does full round trips by file; a bundle imported twice changes
# nothing; a cut or altered bundle is refused whole; a bundle for another node
# says who can open it; a relay carries a bundle it cannot read and forwards it.
. "$(dirname "$0")/lib.sh"
GEN="$(dirname "$0")/gen_records.py"

cport=$(free_port)
central c "$cport" north
cid=$(node_id c)
# The area is enrolled by its id and never dials anyone: no peer, no listener.
aid=$(on a init --name a --kdf interactive)
on c enrol "$aid" --name "north laptop" --scope north >/dev/null
on a start >/dev/null
on c add member --scope network name="Anna Holm" org=police >/dev/null
on c add person --scope north alias=FROM-CENTRAL birth_year=2010 >/dev/null

# 1. The central's first bundle enrols the area, once the user names the central.
on c bundle export --for "$aid" -o "$T/c2a.1" >/dev/null
[ "$(stat -c %a "$T/c2a.1")" = 600 ] || fail "a bundle is readable by others: $(stat -c %a "$T/c2a.1")"
expect_fail 1 on a bundle import "$T/c2a.1"
contains "$LAST_ERR" "--central $cid"
[ "$(json_get "$(on a --json status)" 'j["role"]')" = "not enrolled" ] || fail "enrolled unasked"
out=$(on a --json bundle import --central "$cid" "$T/c2a.1")
[ "$(json_get "$out" 'j["refused"]')" -eq 0 ] || fail "refusals in the first bundle: $out"
[ "$(json_get "$(on a --json status)" 'j["role"]')" = member ] || fail "the area is not enrolled"
[ "$(json_get "$(on a --json list person)" "len(j)")" -eq 1 ] || fail "the area does not see the central's person"

# 2. The area works offline, then answers with a bundle: only what the central lacks.
python3 "$GEN" 1000 north | on a import - >/dev/null
on a add member --scope network name="Bo Berg" org=school >/dev/null
on a add person alias=FROM-AREA birth_year=2011 >/dev/null
out=$(on a --json bundle export --for "$cid" -o "$T/a2c")
commits=$(json_get "$out" 'j["commits"]')
size=$(stat -c %s "$T/a2c")
# The central's own streams are not sent back to it. Two of the area's commits
# are audit entries: of the list above and of this export.
[ "$commits" -le 6 ] || fail "the area's bundle holds $commits commits, more than its own"
echo "bundle of 1000 concerns + 2 records: $size bytes, $((size / 1002)) bytes per record"

# 3. Cut or altered anywhere, the bundle is refused and nothing changes.
before=$(state_of c north)
for cut in 10 200 $((size / 2)) $((size - 64)) $((size - 1)); do
    head -c "$cut" "$T/a2c" >"$T/bad"
    expect_fail 1 on c bundle import "$T/bad"
done
contains "$LAST_ERR" "cut short"
# The header (magic, version, ids, readers), the body's start, middle and end, the signature.
for at in 0 9 20 60 150 $((size / 3)) $((size / 2)) $((size - 80)) $((size - 30)) $((size - 1)); do
    cp "$T/a2c" "$T/bad"
    python3 -c 'import sys
p, at = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[at] ^= 0x20; open(p, "wb").write(b)' "$T/bad" "$at"
    expect_fail 1 on c bundle import "$T/bad"
done
contains "$LAST_ERR" "signature"
[ "$(state_of c north)" = "$before" ] || fail "a refused bundle changed the central's state"
on c verify >/dev/null || fail "the central's store is damaged after refused bundles"

# 4. The whole bundle applies; a second import changes nothing.
out=$(on c --json bundle import "$T/a2c")
[ "$(json_get "$out" 'j["applied"]')" -eq "$commits" ] || fail "applied: $out"
[ "$(json_get "$out" 'j["refused"]')" -eq 0 ] || fail "refused: $out"
after=$(state_of c north)
out=$(on c --json bundle import "$T/a2c")
[ "$(json_get "$out" 'j["applied"]')" -eq 0 ] || fail "a second import applied: $out"
[ "$(json_get "$out" 'j["duplicates"]')" -eq "$commits" ] || fail "duplicates: $out"
[ "$(state_of c north)" = "$after" ] || fail "a second import changed the state"
on c bundle import "$T/a2c" | grep -q "already held $commits" || fail "human output"

# 5. The central answers by bundle; both hold the same state.
on c set "$(json_get "$(on c --json list person --where alias=FROM-AREA)" 'j[0]["id"]')" \
    school="North school" >/dev/null
on c add person --scope north alias=LATER birth_year=2012 >/dev/null
on c bundle export --for "$aid" -o "$T/c2a.2" >/dev/null
# An older bundle imported after a newer one moves nothing back.
on a bundle import "$T/c2a.2" >/dev/null
on a bundle import "$T/c2a.1" >/dev/null
for s in north network; do
    [ "$(state_of a "$s")" = "$(state_of c "$s")" ] || fail "scope $s differs after the round trip"
done
on a verify >/dev/null || fail "area verify"
on c verify >/dev/null || fail "central verify"
# The area knows from the central's last bundle (not moved back by the older one) that the
# central holds all it has; its answer holds only the audit entry of this export.
[ "$(json_get "$(on a --json bundle export --for "$cid" -o "$T/a2c.2")" 'j["commits"]')" -eq 1 ] ||
    fail "the area would send the central commits it has"
on c bundle import "$T/a2c.2" >/dev/null
[ "$(json_get "$(on c --json bundle export --for "$aid" -o "$T/c2a.3")" 'j["commits"]')" -eq 1 ] ||
    fail "the central would send the area commits it has"

# 6. A relay carries a bundle it cannot read and forwards it to the central.
member r c north "127.0.0.1:$cport" relay
rid=$(node_id r)
# The relay got the roster over a link; from here it forwards by bundle only.
on r peer remove "$cid" >/dev/null
# A bundle for another node tells who can open it.
expect_fail 1 on r bundle import "$T/c2a.3"
contains "$LAST_ERR" "sealed to north laptop"; contains "$LAST_ERR" "carry it to"
# The area learns of the relay from the central's next bundle (the roster travels too).
on c bundle export --for "$aid" -o "$T/c2a.4" >/dev/null
on a bundle import "$T/c2a.4" >/dev/null
on a add person alias=ZEBRA-XYZZY-4711 birth_year=2013 >/dev/null
on a bundle export --for "$cid" --via "$rid" -o "$T/via" >/dev/null
out=$(on r --json bundle import "$T/via")
[ "$(json_get "$out" 'j["carrier"]')" = True ] || fail "the relay is not a carrier: $out"
[ "$(json_get "$out" 'j["applied"]')" -ge 1 ] || fail "the relay stored nothing: $out"
[ "$(json_get "$out" 'j["refused"]')" -eq 0 ] || fail "the relay refused: $out"
[ "$(json_get "$(on r --json list person)" 'len(j)')" -eq 0 ] || fail "the relay shows records"
on r stop >/dev/null
! grep -qa "ZEBRA-XYZZY" "$T/r/data.mdb" || fail "the relay's store holds a record value in clear"
on r start >/dev/null
out=$(on r --json bundle export --for "$cid" -o "$T/r2c")
[ "$(json_get "$out" 'j["commits"]')" -ge 1 ] || fail "the relay's bundle forwards nothing: $out"
on c bundle import "$T/r2c" >/dev/null
[ "$(json_get "$(on c --json list person --where alias=ZEBRA-XYZZY-4711)" 'len(j)')" -eq 1 ] ||
    fail "the central did not get the record the relay carried"
# The rest of the area's bundle (scopes the relay does not carry) reaches the central from the file.
on c bundle import "$T/via" >/dev/null
# The central's reads left audit entries in north: its next bundle brings them to the area.
on c bundle export --for "$aid" -o "$T/c2a.5" >/dev/null
on a bundle import "$T/c2a.5" >/dev/null
[ "$(state_of a north)" = "$(state_of c north)" ] || fail "north differs after the relay's bundle"
# The area never had a link: it never connected to anyone.
! grep -q "connected" "$T/a/sspd.log" || fail "the area connected to a peer"
echo "ok: bundle round trips, duplicates, refusals and a relay carrying a bundle"
