#!/usr/bin/env bash
# Board reports through the real CLI: concerns by area and month and by
# category, with a cell of 3 hidden and enough others that it cannot be
# worked out from the totals printed (checked by brute force); activities are
# not suppressed; a report of one small cell hides its total; dates are
# validated; CSV and JSON hold no record id, alias or description text.
. "$(dirname "$0")/lib.sh"
node_up "board node" north,south

p=$(add_id person --scope north alias=QXALIAS birth_year=2012 school="Hidden school")
q=$(add_id person --scope south alias=QYALIAS birth_year=2001)
ids="$p $q"
n=0
# concerns SCOPE MONTH COUNT CATEGORY PERSON
concerns() {
    for _ in $(seq "$3"); do
        n=$((n + 1))
        ids="$ids $(add_id concern --scope "$1" person="$5" date="2026-$2-1$((n % 9))" \
            categories="$4" level=2 status=new legal_basis=s115 source=school \
            description="SECRETDESC$n seen at the station")"
    done
}
concerns north 01 3 violence "$p"
concerns north 02 9 absence "$p"
concerns north 03 6 conflict "$p"
concerns south 01 7 theft "$q"
concerns south 02 12 absence "$q"
concerns south 03 8 drugs "$q"
# Outside the range: not counted.
concerns north 04 2 absence "$p"
k=$(add_id case --scope north person="$p" track=ssp level=2 opened=2026-02-03 status=open legal_basis=s115)
ids="$ids $k"
add_id activity --scope north kind=group prevention=reactive title="SECRETTITLE night walk" \
    date=2026-01-20 age_bands=13-17,18-25 reach=3 orgs=club description="SECRETDESC act" >/dev/null
add_id activity --scope south kind=general prevention=proactive title="Theme day" \
    date=2026-02-05 age_bands=13-17 reach=120 orgs=school,police >/dev/null

R=(--from 2026-01-01 --to 2026-03-31)

# By area and month: north/2026-01 holds 3 and is hidden, with its complements.
csv=$(ssp report concerns --by area,month "${R[@]}" --format csv)
echo "$csv"
[ "$(echo "$csv" | head -1)" = "area,month,concerns" ] || fail "csv header"
contains "$csv" "north,2026-01,<5"
contains "$csv" "north,2026-03,<5"
contains "$csv" "south,2026-01,<5"
contains "$csv" "south,2026-03,<5"
contains "$csv" "north,2026-02,9"
contains "$csv" "south,2026-02,12"
contains "$csv" "north,total,18"
contains "$csv" "total,2026-01,10"
contains "$csv" "total,total,45"
# Brute force: every assignment of the hidden cells that fits what is printed.
python3 - "$csv" <<'PY' || fail "a hidden cell can be derived from the CSV"
import csv, io, itertools, sys
rows = list(csv.reader(io.StringIO(sys.argv[1])))[1:]
cells = {(a, m): v for a, m, v in rows if a != "total" and m != "total"}
rt = {a: int(v) for a, m, v in rows if m == "total" and a != "total" and not v.startswith("<")}
ct = {m: int(v) for a, m, v in rows if a == "total" and m != "total" and not v.startswith("<")}
hidden = [k for k, v in cells.items() if v.startswith("<")]
assert len(hidden) >= 2, hidden
seen = {k: set() for k in hidden}
for vals in itertools.product(range(0, 46), repeat=len(hidden)):
    g = {k: int(v) for k, v in cells.items() if not v.startswith("<")}
    g.update(zip(hidden, vals))
    if all(sum(v for (a, _), v in g.items() if a == r) == t for r, t in rt.items()) and \
       all(sum(v for (_, m), v in g.items() if m == c) == t for c, t in ct.items()):
        for k, v in zip(hidden, vals):
            seen[k].add(v)
bad = [k for k, s in seen.items() if len(s) < 2]
sys.exit(1 if bad or not seen[("north", "2026-01")] else 0)
PY

# By category (one field): violence (3) hidden, and the next smallest (conflict, 6).
tab=$(ssp report concerns --by category "${R[@]}")
echo "$tab"
contains "$tab" "violence  "
echo "$tab" | grep -Eq '^violence +<5$' || fail "violence not hidden"
echo "$tab" | grep -Eq '^conflict +<5$' || fail "conflict not hidden as the complement"
echo "$tab" | grep -Eq '^absence +21$' || fail "absence"
echo "$tab" | grep -Eq '^total +45$' || fail "total"
# --min-cell 3 shows the 3.
ssp report concerns --by category "${R[@]}" --min-cell 3 | grep -Eq '^violence +3$' \
    || fail "--min-cell 3"

# JSON: null and "suppressed" for hidden cells.
json=$(ssp report concerns --by area,month "${R[@]}" --format json)
[ "$(json_get "$json" '[l for l in j["lines"] if l.get("area")=="north" and l.get("month")=="2026-01"][0]')" \
    = "{'area': 'north', 'month': '2026-01', 'count': None, 'suppressed': True}" ] || fail "json cell"
[ "$(json_get "$json" '[l["count"] for l in j["lines"] if "area" not in l and "month" not in l][0]')" = 45 ] \
    || fail "json total"
# Age bands come from the person's birth year: 2012 -> 13-17 in 2026, 2001 -> 18-25.
ageb=$(ssp report concerns --by age_band "${R[@]}" --format csv)
contains "$ageb" "13-17,18"
contains "$ageb" "18-25,27"

# Cases: one case alone is hidden, and so is the total that would equal it.
cases=$(ssp report cases --by level "${R[@]}" --format csv)
contains "$cases" "2,<5"
contains "$cases" "total,<5"

# Activities are not about persons: a reach of 3 and a count of 1 are shown.
act=$(ssp report activities --by age_band,month "${R[@]}" --format csv)
echo "$act"
[ "$(echo "$act" | head -1)" = "age_band,month,activities,reach" ] || fail "activities header"
contains "$act" "18-25,2026-01,1,3"
contains "$act" "13-17,2026-02,1,120"
contains "$act" "13-17,total,2,123"
contains "$act" "total,2026-01,2,6"
contains "$act" "total,total,3,126"
ssp report activities --by org "${R[@]}" --scope south --format csv | grep -q '^club' \
    && fail "--scope south counted north"

# No record id, alias or free text in what the board gets.
for fmt in csv json table; do
    for by in area,month category age_band level org status,quarter; do
        out=$(ssp report concerns --by "$by" "${R[@]}" --format "$fmt")
        out="$out $(ssp report cases --by "$by" "${R[@]}" --format "$fmt" 2>/dev/null || true)"
        for id in $ids; do
            case "$out" in *"$id"*) fail "record id $id in a $fmt report" ;; esac
        done
        case "$out" in *QXALIAS* | *QYALIAS* | *SECRET* | *Hidden* | *station*)
            fail "alias or free text in a $fmt report by $by" ;;
        esac
    done
    out=$(ssp report activities --by kind,prevention "${R[@]}" --format "$fmt")
    case "$out" in *SECRET* | *night*) fail "activity text in a $fmt report" ;; esac
done

# A range with no records: the header and a total of 0, in every format.
[ "$(ssp report concerns --by area --from 2020-01-01 --to 2020-12-31 --format csv)" = \
    "$(printf 'area,concerns\ntotal,0')" ] || fail "empty report by one field"
ssp report concerns --by area,level --from 2020-01-01 --to 2020-12-31 | grep -Eq '^total +total +0$' \
    || fail "empty report by two fields"
[ "$(json_get "$(ssp report cases --by track --from 2020-01-01 --to 2020-12-31 --format json)" \
    'j["lines"]')" = "[{'count': 0}]" ] || fail "empty json report"
# Quarters.
contains "$(ssp report concerns --by quarter "${R[@]}" --format csv)" "2026-Q1,45"

# Refusals: one line that says what to do.
expect_fail 1 ssp report concerns --by area --from 2026-02-30 --to 2026-03-31
contains "$LAST_ERR" "YYYY-MM-DD"
expect_fail 1 ssp report concerns --by area --from 2026-03-01 --to 2026-01-31
contains "$LAST_ERR" "after"
expect_fail 1 ssp report concerns --by track "${R[@]}"
contains "$LAST_ERR" "cannot be by 'track'"
expect_fail 1 ssp report concerns --by area,month,level "${R[@]}"
expect_fail 1 ssp report incidents --by area "${R[@]}"
expect_fail 1 ssp report concerns --by area "${R[@]}" --scope east
contains "$LAST_ERR" "cannot read scope"
expect_fail 2 ssp report concerns --by area --from 2026-01-01
expect_fail 2 ssp report concerns --by area "${R[@]}" --format xml
echo "PASS"
