#!/usr/bin/env bash
# Case work (issue 5, point 3): ssp case open --from CONCERN copies the
# concern into a new case and marks the concern case_opened in one write;
# ssp case escalate moves a case, its plans and its notes to scope central,
# where the coordination group works, and the area keeps only a trace. And
# adding a person who probably exists already warns and shows the match.
. "$(dirname "$0")/lib.sh"

cport=$(free_port)
central c "$cport" north,south
member a c north "127.0.0.1:$cport"
member b c south "127.0.0.1:$cport"
id_of() { json_get "$1" 'j["id"]'; }
field() { json_get "$(on "$1" --json show "$2")" "j['fields'].get('$3')"; }

m=$(id_of "$(on c --json add member --scope network name="Lene Holm" org=social)")
g=$(id_of "$(on c --json add group --scope network name="Koordinationsgruppen" \
    level=coordination)")
on a sync >/dev/null
p=$(id_of "$(on a --json add person alias="Mads K" birth_year=2009)")
k=$(id_of "$(on a --json add concern person="$p" date=2026-11-02 categories=violence level=2 \
    status=assessed legal_basis=s115 consent=overridden consent_reason="the risk weighed heavier" \
    description="Seen with a knife near ZEBRAHOUSE")")
group_k=$(id_of "$(on a --json add concern group_desc="Youths at the station" date=2026-11-02 \
    categories=gang level=1 status=new)")

# ---- case open --from ----
out=$(on a --json case open --from "$k" coordinator="$m")
case_a=$(id_of "$out")
[ "$(json_get "$out" 'j["scope"]')" = north ] || fail "the case is in the concern's scope"
for f in person:"$p" level:2 legal_basis:s115 consent:overridden \
    consent_reason:"the risk weighed heavier" track:ssp status:open coordinator:"$m"; do
    [ "$(json_get "$out" "str(j['fields']['${f%%:*}'])")" = "${f#*:}" ] || fail "case ${f%%:*}"
done
[ "$(json_get "$out" 'j["fields"]["concerns"]')" = "['$k']" ] || fail "case lists the concern"
[ "$(json_get "$out" 'j["fields"]["opened"]')" = "$(date +%F)" ] || fail "opened today"
[ "$(field a "$k" status)" = case_opened ] || fail "concern marked case_opened"
# Both in one commit of scope north: the concern's change and the case.
[ "$(json_get "$(on a --json history "$k")" 'len(j)')" = 2 ] || fail "concern history"
# Field arguments replace what is copied; the rules still hold.
k2=$(id_of "$(on a --json add concern person="$p" date=2026-11-03 categories=theft level=1 \
    status=new legal_basis=consent)")
out=$(on a --json case open --from "$k2" level=3 opened=2026-11-04)
[ "$(json_get "$out" 'j["fields"]["level"]')" = 3 ] || fail "override level"
[ "$(json_get "$out" 'j["fields"]["opened"]')" = 2026-11-04 ] || fail "override opened"
[ "$(json_get "$out" '"consent" in j["fields"]')" = False ] || fail "nothing made up"

# Refusals: one line, what to do, and nothing changed.
before=$(json_get "$(on a --json status)" 'j["records"]')
expect_fail 1 on a case open --from "$k"
contains "$LAST_ERR" "has a case already"
expect_fail 1 on a case open --from "$group_k"
contains "$LAST_ERR" "set its person first"
expect_fail 1 on a case open --from "$p"
contains "$LAST_ERR" "is a person, not a concern"
expect_fail 1 on a case open --from 01JD3XK2M4N5P6Q7R8S9T0VWXZ
expect_fail 1 on a case open --from "$k2"
expect_fail 2 on a case open
contains "$LAST_ERR" "--from"
k3=$(id_of "$(on a --json add concern person="$p" date=2026-11-05 categories=theft level=1 \
    status=new legal_basis=s115)")
before=$(json_get "$(on a --json status)" 'j["records"]')
expect_fail 1 on a case open --from "$k3" track=ssp_plus
contains "$LAST_ERR" "ssp_plus"
expect_fail 1 on a case open --from "$k3" status=closed
contains "$LAST_ERR" "closed date"
expect_fail 1 on a case open --from "$k3" legal_basis=
contains "$LAST_ERR" "needs its legal_basis"
# (Counted before the show below, which leaves an audit entry.)
[ "$(json_get "$(on a --json status)" 'j["records"]')" = "$before" ] || fail "records added"
[ "$(field a "$k3" status)" = new ] || fail "a refused case open changed the concern"

# ---- case escalate ----
pl=$(id_of "$(on a --json add plan case="$case_a" goal="Keep him in school" \
    'actions:=[{"what":"Meet parents","who":"'"$m"'","due":"2026-11-20","status":"open"}]')")
pl_other=$(id_of "$(on a --json add plan case="$(json_get "$out" 'j["id"]')" goal="Other case")")
on a note "$case_a" Talked to the school about QUAGGA >/dev/null
note_a=$(json_get "$(on a --json list note)" '[r["id"] for r in j if r["fields"]["about"] == "'"$case_a"'"][0]')
on a note "$pl" Parents came to the meeting >/dev/null
on a sync >/dev/null

# An area node holds no central key: it is told who escalates.
expect_fail 1 on a case escalate "$case_a" --level 3
contains "$LAST_ERR" "only the central does"
expect_fail 2 on a case escalate "$case_a"
expect_fail 2 on a case escalate "$case_a" --level 2
expect_fail 1 on c case escalate "$p" --level 3
contains "$LAST_ERR" "not a case"
expect_fail 1 on c case escalate "$case_a" --ssp-plus
contains "$LAST_ERR" "ssp_plus"
[ "$(field c "$case_a" level)" = 2 ] || fail "a refused escalation changed the case"

out=$(on c --json case escalate "$case_a" --level 4 --group "$g" --date 2026-11-10)
new=$(id_of "$out")
trace=$(json_get "$out" 'j["escalation"]')
[ "$(json_get "$out" 'j["scope"]')" = central ] || fail "the case is in central"
[ "$(json_get "$out" 'j["fields"]["level"]')" = 4 ] || fail "escalated level"
[ "$(json_get "$out" '(j["plans"], j["notes"])')" = "(1, 2)" ] || fail "what moved"
for f in person:"$p" legal_basis:s115 consent:overridden coordinator:"$m" track:ssp; do
    [ "$(json_get "$out" "str(j['fields']['${f%%:*}'])")" = "${f#*:}" ] || fail "kept ${f%%:*}"
done
text=$(on c case escalate "$(id_of "$(on c --json case open --from "$k3")")" --level 3)
contains "$text" "escalated: the case is"

# The central: the plan and the notes moved with the case and refer to its new id.
plans=$(on c --json list plan --scope central)
[ "$(json_get "$plans" '[r["fields"]["case"] for r in j]')" = "['$new']" ] || fail "plan moved"
[ "$(json_get "$plans" 'j[0]["fields"]["actions"][0]["what"]')" = "Meet parents" ] ||
    fail "plan content moved"
newplan=$(json_get "$plans" 'j[0]["id"]')
notes=$(on c --json list note --scope central)
[ "$(json_get "$notes" 'sorted(r["fields"]["about"] for r in j)')" = \
    "$(python3 -c 'import sys; print(sorted(sys.argv[1:]))' "$new" "$newplan")" ] ||
    fail "notes moved"
# The other case's plan stays where it was.
[ "$(field c "$pl_other" goal)" = "Other case" ] || fail "another case's plan moved"

# The area, after sync: the case, its plan and its notes are gone; the trace says
# when and to whom, refers to the new id it cannot read, and holds no content.
on a sync >/dev/null
for r in "$case_a" "$pl" "$note_a"; do
    expect_fail 1 on a show "$r"
    contains "$LAST_ERR" "was purged"
done
[ "$(json_get "$(on a --json list plan)" '[r["id"] for r in j]')" = "['$pl_other']" ] ||
    fail "area plans"
t=$(on a --json show "$trace")
for f in case:"$new" former:"$case_a" person:"$p" to:central group:"$g" level:4 track:ssp \
    date:2026-11-10; do
    [ "$(json_get "$t" "str(j['fields']['${f%%:*}'])")" = "${f#*:}" ] || fail "trace ${f%%:*}"
done
contains "$(json_get "$t" 'j["refs"]["'"$new"'"]')" "not readable here"
contains "$(on a show "$trace")" "escalation"
expect_fail 1 on a show "$new"
contains "$LAST_ERR" "no record"
case "$(on a --json list escalation)" in *ZEBRA*) fail "the trace holds content" ;; esac
# The trace is never changed.
expect_fail 1 on a set "$trace" level=3
contains "$LAST_ERR" "cannot be changed"
# South saw none of it; every node agrees on the scopes it shares.
on b sync >/dev/null
[ "$(on b --json list case)" = "[]" ] || fail "south sees a case"
[ "$(state_of a north)" = "$(state_of c north)" ] || fail "north differs"
on a verify >/dev/null
on c verify >/dev/null
# Not a word of the moved note is left anywhere in the area's directory, even
# decrypted with every key it holds; the central has it.
on a stop >/dev/null
on c stop >/dev/null
"$SSP_BIN/ssp_scan" "$T/a" QUAGGA >/dev/null || fail "the area still holds the moved note"
[ "$("$SSP_BIN/ssp_scan" "$T/c" QUAGGA 2>/dev/null | grep -c FOUND)" -gt 0 ] || fail "central lost the note"
on c start --listen "127.0.0.1:$cport" >/dev/null
on a start >/dev/null

# ---- a person who probably exists ----
out=$(on a --json add person alias="mads k" birth_year=2009)
[ "$(json_get "$out" '[(d["id"], d["match"]) for d in j["possible_duplicates"]]')" = \
    "[('$p', 'alias and birth year')]" ] || fail "duplicate by alias and year"
[ "$(json_get "$(on a --json add person alias="Mads K" birth_year=2011)" \
    'j["possible_duplicates"]')" = "[]" ] || fail "another year is another person"
[ "$(json_get "$(on a --json add person alias="Mads K")" 'len(j["possible_duplicates"])')" = 3 ] ||
    fail "no year: any year matches"
# By national id, across areas: the central reads both.
pn=$(id_of "$(on a --json add person alias="Ali" --national-id 0101101234)")
on a sync >/dev/null
on b sync >/dev/null
err=$(on b add person alias="A.B." --national-id 010110-1234 2>&1 >/dev/null)
[ -z "$err" ] || fail "south cannot read north's person, so it cannot warn: $err"
on b sync >/dev/null
err=$(on c add person --scope north alias="Somebody" --national-id 0101101234 2>&1 >/dev/null)
contains "$err" "ssp: warning: probably the same young person: $pn (north, Ali; same national id)"
contains "$err" "ssp delete"
case "$err" in *0101101234*) fail "the national id was printed" ;; esac
[ "$(on a add person alias="Nobody Else" 2>&1 >/dev/null)" = "" ] || fail "warned for no reason"
echo "ok"
