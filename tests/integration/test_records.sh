#!/usr/bin/env bash
# Records of every type through the real CLI: add, show, list, where, set,
# note, delete, history, JSON output, and data surviving a restart.
. "$(dirname "$0")/lib.sh"
node_up "test node" north,south

m=$(add_id member --scope network name="Anna Holm" org=police title="Prevention officer" \
    phone="+45 1234 5678" email=anna@example.dk)
g=$(add_id group name="Local group North" level=implementation members="$m" meets="monthly")
ssp set "$m" groups="$g" >/dev/null
p=$(add_id person alias=MK birth_year=2011 gender=male school="North school")
c=$(add_id concern person="$p" reported_by="$m" source=police date=2026-11-02 \
    categories=absence,conflict level=2 status=new legal_basis=s115 consent=not_asked \
    description="Absent three weeks, seen with older youths at the station")
k=$(add_id case person="$p" track=ssp level=2 coordinator="$m" opened=2026-11-10 status=open \
    concerns="$c" legal_basis=s115 consent=given)
pl=$(add_id plan case="$k" goal="Back in school full time" review=2026-12-15 \
    'actions:=[{"what":"Meet parents","who":"'"$m"'","due":"2026-11-20","status":"open"}]')
mt=$(add_id meeting group="$g" date=2026-11-12 place="North school" participants="$m" \
    minutes="Discussed the station group" \
    'decisions:=[{"text":"Evening patrol Fridays","owner":"'"$m"'","due":"2026-11-30","status":"open"}]')
for kind in individual group general emergency training; do
    add_id activity kind=$kind prevention=proactive title="Activity $kind" date=2026-11-15 \
        age_bands=13-17 reach=25 orgs=school,police >/dev/null
done
i=$(add_id incident date=2026-11-14 place="Station square" description="Fight between groups" \
    youths=12 status=open)
add_id annual_plan year=2027 goals="Fewer young people in crime" >/dev/null

# show: human and JSON carry the values written.
out=$(ssp show "$c")
contains "$out" "Absent three weeks"
contains "$out" "absence, conflict"
# The records it refers to are named, not only given by id.
contains "$out" "$p  person MK"
contains "$out" "$m  member Anna Holm"
[ "$(json_get "$(ssp --json show "$pl")" 'j["refs"]["'"$m"'"]')" = "member Anna Holm" ] \
    || fail "refs inside items"
j=$(ssp --json show "$c")
[ "$(json_get "$j" 'j["type"]')" = concern ] || fail "type"
[ "$(json_get "$j" 'j["scope"]')" = north ] || fail "default scope"
[ "$(json_get "$j" 'j["fields"]["level"]')" = 2 ] || fail "level is an int"
[ "$(json_get "$j" 'j["fields"]["categories"]')" = "['absence', 'conflict']" ] || fail "set"
[ "$(json_get "$(ssp --json show "$pl")" 'j["fields"]["actions"][0]["what"]')" = "Meet parents" ] \
    || fail "items"

# list and where.
[ "$(count activity)" = 5 ] || fail "5 activities"
[ "$(count activity --where kind=group)" = 1 ] || fail "where on enum"
[ "$(count concern --where categories=conflict)" = 1 ] || fail "where on a set"
[ "$(count concern --where categories=drugs)" = 0 ] || fail "where on a set, no match"
# Scopes: writes go to the default (first) scope unless told; lists can be narrowed.
s1=$(add_id person --scope south alias=SouthOne birth_year=2010)
[ "$(json_get "$(ssp --json show "$s1")" 'j["scope"]')" = south ] || fail "--scope on add"
[ "$(count person)" = 2 ] || fail "list across scopes"
[ "$(count person --scope north)" = 1 ] || fail "list narrowed to north"
[ "$(json_get "$(ssp --json list person --scope south)" 'j[0]["id"]')" = "$s1" ] \
    || fail "list narrowed to south"

# set, then history shows both versions in order.
ssp set "$c" status=assessed level=3 >/dev/null
[ "$(json_get "$(ssp --json show "$c")" 'j["fields"]["status"]')" = assessed ] || fail "set"
h=$(ssp --json history "$c")
[ "$(json_get "$h" 'len(j["versions"])')" = 2 ] || fail "two versions"
[ "$(json_get "$h" '[v["action"] for v in j["versions"]]')" = "['create', 'update']" ] || fail "order"
[ "$(json_get "$h" 'j["versions"][1]["fields"]["level"]')" = 3 ] || fail "history fields"

# notes are append-only and live in the scope of their record.
n=$(json_get "$(ssp --json note "$k" Called the mother, meeting on Monday)" 'j["id"]')
[ "$(json_get "$(ssp --json show "$n")" 'j["fields"]["text"]')" = "Called the mother, meeting on Monday" ] \
    || fail "note text"
n2=$(json_get "$(ssp --json note "$s1" Moved to the south school)" 'j["id"]')
[ "$(json_get "$(ssp --json show "$n2")" 'j["scope"]')" = south ] || fail "note in its record's scope"
expect_fail 1 ssp set "$n" text=changed
contains "$LAST_ERR" "cannot be changed"
expect_fail 1 ssp delete "$n"

# delete hides the record from lists; show still tells it was deleted.
ssp delete "$i" >/dev/null
[ "$(count incident)" = 0 ] || fail "deleted incident still listed"
[ "$(json_get "$(ssp --json show "$i")" 'j["deleted"]')" = True ] || fail "deleted flag"
expect_fail 1 ssp set "$i" status=closed

# Everything survives a stop and a start.
before=$(ssp --json show "$c")
ssp stop >/dev/null
expect_fail 3 ssp status
ssp start >/dev/null
[ "$(ssp --json show "$c")" = "$before" ] || fail "record changed across restart"
[ "$(count activity)" = 5 ] || fail "activities after restart"
ssp verify >/dev/null || fail "verify"
ssp stop >/dev/null
echo "records: ok"
