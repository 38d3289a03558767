#!/usr/bin/env bash
# A blind relay (DESIGN §8): R, enrolled --role relay for north, stores and
# forwards north's commits without north's key. The area node N reaches only
# R (and joins the network through it); the central has no address for N.
# N's records reach the central through R, an edit on the central reaches N
# through R, and R holds no plaintext of north, lists nothing of it, cannot
# write it, and its store verifies.
. "$(dirname "$0")/lib.sh"

cport=$(free_port)
rport=$(free_port)
central c "$cport" north
cid=$(node_id c)

# The relay: enrolled for north as a relay, dials the central, takes connections from N.
rid=$(on r init --name relay --kdf interactive)
on c enrol "$rid" --name relay --scope north --role relay >/dev/null
on r start --listen "127.0.0.1:$rport" >/dev/null
on r peer add "$cid" "127.0.0.1:$cport" >/dev/null
on r sync >/dev/null

# The area node: enrolled by the central, but it only ever talks to the relay.
nid=$(on n init --name north-laptop --kdf interactive)
on c enrol "$nid" --name north-laptop --scope north >/dev/null
on r sync >/dev/null # the relay learns of N's enrolment (and so lets it in)
on n start >/dev/null
on n peer add "$rid" "127.0.0.1:$rport" --network "$cid" >/dev/null
on n sync >/dev/null || fail "N could not join through the relay"
[ "$(json_get "$(on n --json status)" 'j["role"]')" = member ] || fail "N is not enrolled after syncing with R"
[ "$(json_get "$(on n --json status)" 'j["network"]')" = "$cid" ] || fail "N's network is not the central's"
[ "$(json_get "$(on c --json peer list)" "len([p for p in j if p['node']=='$nid'])")" -eq 0 ] ||
    fail "the central knows N as a peer; it must reach N only through R"

# N writes north records with values found nowhere else.
for i in 1 2 3; do
    on n add person --scope north alias="ZEBRAFINCH$i" school="QUOKKA-SCHOOL-$i" >/dev/null
done
id=$(json_get "$(on n --json add concern --scope north group_desc="group at the square" \
    source=school date=2026-11-02 categories=absence level=2 status=new legal_basis=s115 \
    consent=not_asked description="WOMBATLANTERN seen at the station")" 'j["id"]')
on n sync >/dev/null
on r sync >/dev/null
listed() { json_get "$(on "$1" --json list "${@:2}")" 'sum("ZEBRAFINCH" in json.dumps(r) for r in j)'; }
[ "$(listed c person --scope north)" -eq 3 ] ||
    fail "the central does not list N's three persons: $(on c list person --scope north)"
on c show "$id" | grep -q WOMBATLANTERN || fail "the central does not show N's concern"

# An edit on the central reaches N through R.
on c set "$id" description="PANGOLINFERRY updated centrally" >/dev/null
on r sync >/dev/null
on n sync >/dev/null
on n show "$id" | grep -q PANGOLINFERRY || fail "the central's edit did not reach N through R"
[ "$(state_of n north)" = "$(state_of c north)" ] || fail "north differs between N and the central"

# The relay carries north, holds its commits and nothing readable of it.
st=$(on r --json status)
[ "$(json_get "$st" 'j["role"]')" = relay ] || fail "R's role is $(json_get "$st" 'j["role"]')"
[ "$(json_get "$st" '"north" in j["carries"]')" = True ] || fail "R's status does not say it carries north: $st"
[ "$(json_get "$st" '"north" in j["scopes"]')" = False ] || fail "R holds north's key"
[ "$(json_get "$st" 'j["commits"]')" -ge 6 ] || fail "R holds only $(json_get "$st" 'j["commits"]') commits"
on r status | grep -q "carries.*north" || fail "R's human status does not say it carries north"
[ "$(json_get "$(on r --json list person --scope north)" 'len(j)')" -eq 0 ] ||
    fail "R lists north records: $(on r list person --scope north)"
on r verify >/dev/null || fail "R's store does not verify"
on r stop >/dev/null # everything written out
# The search does read the store: the scope's name is in clear in commit headers.
grep -q -a north "$T/r/data.mdb" || fail "the search cannot read R's store"
for word in ZEBRAFINCH QUOKKA WOMBATLANTERN PANGOLINFERRY; do
    if grep -rq -a "$word" "$T/r"; then
        fail "R's directory holds '$word' in clear: $(grep -rl -a "$word" "$T/r")"
    fi
done
on r start >/dev/null

# R cannot write north: no key, and the roster gives a relay no right to write.
expect_fail 1 on r add person --scope north alias=INTRUDER
contains "$LAST_ERR" north; echo "R refused: $LAST_ERR"
echo "ok: N's records reach the central and back through the blind relay R, which holds none in clear"
