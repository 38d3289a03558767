#!/usr/bin/env bash
# The meeting work (issue 5, point 3): `ssp due` lists the open plan actions
# and meeting decisions due by a day (default today + 14), sorted, without
# done or dropped ones or those beyond the day; `ssp agenda GROUP` gives the
# last meeting's decisions, the concerns since, open cases by level and the
# follow-ups due. An area node sees only what its scopes hold; bad params
# are refused with one line. The nodes' clock is fixed at 2026-06-15 noon.
. "$(dirname "$0")/lib.sh"
export SSP_TEST_CLOCK_MS=1781524800000 # 2026-06-15T12:00:00Z

cport=$(free_port)
central c "$cport" north,south
member a c north "127.0.0.1:$cport"

add() { json_get "$(on c --json add "$@")" 'j["id"]'; }
m1=$(add member --scope network name="Anna Holm" org=police)
m2=$(add member --scope network name="Bo Berg" org=school)
g=$(add group --scope network name="Lokalgruppe Nord" level=implementation members="$m1,$m2")
p1=$(add person --scope north alias=MK birth_year=2011)
p2=$(add person --scope north alias=LJ birth_year=2012)
p3=$(add person --scope south alias=SX birth_year=2011)

add meeting --scope north group="$g" date=2026-04-10 decisions:="[
  {\"text\":\"Old done\",\"owner\":\"$m1\",\"due\":\"2026-04-20\",\"status\":\"done\"},
  {\"text\":\"Old still open\",\"owner\":\"$m2\",\"due\":\"2026-05-01\"}]" >/dev/null
last=$(add meeting --scope north group="$g" date=2026-05-20 place="Town hall" decisions:="[
  {\"text\":\"Call the school\",\"owner\":\"$m1\",\"due\":\"2026-06-01\",\"status\":\"open\"},
  {\"text\":\"Done thing\",\"due\":\"2026-06-10\",\"status\":\"done\"},
  {\"text\":\"Visit the club\",\"owner\":\"$m2\",\"due\":\"2026-06-20\"},
  {\"text\":\"Far future\",\"due\":\"2026-08-01\"},
  {\"text\":\"No due date\",\"owner\":\"$m1\"}]")
# After the agenda's day: not the last meeting.
add meeting --scope north group="$g" date=2026-07-01 >/dev/null

k1=$(add case --scope north person="$p1" track=ssp legal_basis=s115 level=2 opened=2026-03-01 status=open \
    coordinator="$m1")
k2=$(add case --scope north person="$p2" track=ssp legal_basis=s115 level=1 opened=2026-05-02 status=open)
k3=$(add case --scope north person="$p2" track=ssp legal_basis=s115 level=3 opened=2026-01-02 status=closed \
    closed=2026-04-01)
k4=$(add case --scope north person="$p1" track=ssp legal_basis=s115 level=4 opened=2026-02-02 status=on_hold)
ks=$(add case --scope south person="$p3" track=ssp legal_basis=s115 level=1 opened=2026-05-02 status=open)
plan=$(add plan --scope north case="$k1" goal="Back in school" actions:="[
  {\"what\":\"Meet the parents\",\"who\":\"$m2\",\"due\":\"2026-06-14\"},
  {\"what\":\"Dropped one\",\"due\":\"2026-06-02\",\"status\":\"dropped\"},
  {\"what\":\"Later\",\"due\":\"2026-07-10\"}]")
add plan --scope south case="$ks" goal="South goal" \
    actions:='[{"what":"South action","due":"2026-06-05"}]' >/dev/null

concern() {
    add concern --scope "$1" person="$2" date="$3" categories=absence,conflict level=2 \
        status=new legal_basis=s115 description="$4"
}
concern north "$p1" 2026-05-01 "Before the last meeting" >/dev/null
c1=$(concern north "$p1" 2026-05-25 "Absent three weeks; seen at the station every morning with older boys from the other school")
c2=$(concern north "$p2" 2026-06-10 "Fight in the schoolyard")
concern south "$p3" 2026-06-01 "South concern" >/dev/null
on a sync >/dev/null

texts() { json_get "$1" '[r["text"] for r in j]'; }

# Default window: today (2026-06-15) + 14 days, every scope the central reads, sorted.
out=$(on c --json due)
[ "$(texts "$out")" = "['Old still open', 'Call the school', 'South action', 'Meet the parents', 'Visit the club']" ] ||
    fail "central due: $(texts "$out")"
[ "$(json_get "$out" '[r["overdue"] for r in j]')" = "[True, True, True, True, False]" ] ||
    fail "overdue flags"
[ "$(json_get "$out" '[r["due"] for r in j]')" = \
    "['2026-05-01', '2026-06-01', '2026-06-05', '2026-06-14', '2026-06-20']" ] || fail "sorted"
row=$(json_get "$out" 'j[1]')
[ "$(json_get "$out" 'j[1]["owner_name"], j[1]["owner"], j[1]["kind"], j[1]["group"], j[1]["date"], j[1]["scope"]')" = \
    "('Anna Holm', '$m1', 'decision', '$g', '2026-05-20', 'north')" ] || fail "decision row: $row"
[ "$(json_get "$out" 'j[3]["kind"], j[3]["case"], j[3]["record"], j[3]["owner_name"]')" = \
    "('action', '$k1', '$plan', 'Bo Berg')" ] || fail "action row"
[ "$(json_get "$out" 'j[1]["record"]')" = "$last" ] || fail "record of a decision"

# The area node reads north only: no south action.
[ "$(texts "$(on a --json due)")" = "['Old still open', 'Call the school', 'Meet the parents', 'Visit the club']" ] ||
    fail "area due"
# --before and --scope.
[ "$(texts "$(on c --json due --scope north --before 2026-06-10)")" = "['Old still open', 'Call the school']" ] ||
    fail "due --scope --before"
[ "$(json_get "$(on c --json due --before 2026-12-31)" 'len(j)')" = 7 ] || fail "wide window"
# Bounded: a line says how to narrow.
tab=$(on c due --limit 2)
echo "$tab"
contains "$tab" "(first 2 of 5 shown; narrow with --scope/--before)"
tab=$(on c due)
echo "$tab"
echo "$tab" | grep -Eq '^2026-06-01 +yes +decision +Call the school' || fail "table row"
contains "$tab" "Anna Holm ($m1)"
contains "$(on c due --before 2026-01-01)" "no open follow-up due by 2026-01-01"

# The agenda of the group's next meeting, on the area node.
ag=$(on a --json agenda "$g" --date 2026-06-15)
[ "$(json_get "$ag" 'j["group"]["name"], j["scopes"], j["last_meeting"]["id"], j["last_meeting"]["date"]')" = \
    "('Lokalgruppe Nord', ['north'], '$last', '2026-05-20')" ] || fail "agenda head: $ag"
[ "$(json_get "$ag" '[(x["text"], x["status"], x["due"]) for x in j["last_meeting"]["decisions"]]')" = \
    "[('Call the school', 'open', '2026-06-01'), ('Done thing', 'done', '2026-06-10'), ('Visit the club', 'open', '2026-06-20'), ('Far future', 'open', '2026-08-01'), ('No due date', 'open', None)]" ] ||
    fail "decisions from last time"
[ "$(json_get "$ag" 'j["concerns"]["since"], [x["id"] for x in j["concerns"]["items"]], j["concerns"]["total"]')" = \
    "('2026-05-20', ['$c1', '$c2'], 2)" ] || fail "new concerns"
[ "$(json_get "$ag" 'j["concerns"]["items"][0]["alias"], len(j["concerns"]["items"][0]["excerpt"]) <= 80')" = \
    "('MK', True)" ] || fail "concern alias and excerpt"
[ "$(json_get "$ag" '[(x["id"], x["level"]) for x in j["cases"]["items"]]')" = \
    "[('$k2', 1), ('$k1', 2), ('$k4', 4)]" ] || fail "open cases by level"
[ "$(json_get "$ag" 'j["cases"]["items"][1]["coordinator_name"], j["cases"]["items"][1]["alias"]')" = \
    "('Anna Holm', 'MK')" ] || fail "case coordinator"
[ "$(json_get "$ag" 'j["due"]["before"], [r["text"] for r in j["due"]["items"]]')" = \
    "('2026-06-29', ['Old still open', 'Call the school', 'Meet the parents', 'Visit the club'])" ] ||
    fail "follow-ups due on the agenda"
# The text form, fit to paste into minutes.
txt=$(on a agenda "$g")
echo "$txt"
contains "$txt" "# Agenda: Lokalgruppe Nord, 2026-06-15"
contains "$txt" "## Decisions from last time (meeting 2026-05-20, $last, north)"
contains "$txt" "- [done] Done thing (owner -, due 2026-06-10)"
contains "$txt" "## New concerns since 2026-05-20 (2)"
contains "$txt" "### Level 4"
contains "$txt" "- MK, ssp, opened 2026-03-01, coordinator Anna Holm ($k1, north)"
contains "$txt" "## Follow-ups due by 2026-06-29 (4)"
contains "$txt" "- 2026-06-01 OVERDUE decision: Call the school"
case "$txt" in *"$k3"*) fail "a closed case is on the agenda" ;; esac

# No earlier meeting: the last 31 days, every area scope the node reads.
ag=$(on c --json agenda "$g" --date 2026-04-05)
[ "$(json_get "$ag" 'j["last_meeting"], sorted(j["scopes"]), j["concerns"]["since"]')" = \
    "(None, ['north', 'south'], '2026-03-05')" ] || fail "agenda without a last meeting: $ag"
# Cases opened after the day are not open at it.
[ "$(json_get "$ag" '[x["id"] for x in j["cases"]["items"]]')" = "['$k1', '$k4']" ] ||
    fail "cases open on 2026-04-05"
# Days counted across a month, a year and a leap day.
# (days before the group's first meeting: since is the day - 31)
for d in 2025-12-25:2025-11-24:2026-01-08 2024-03-01:2024-01-30:2024-03-15 2026-03-01:2026-01-29:2026-03-15; do
    IFS=: read -r day since before <<<"$d"
    ag=$(on c --json agenda "$g" --date "$day" --scope south)
    [ "$(json_get "$ag" 'j["concerns"]["since"], j["due"]["before"]')" = "('$since', '$before')" ] ||
        fail "days from $day: $(json_get "$ag" 'j["concerns"]["since"], j["due"]["before"]')"
done
# --scope south on the central.
ag=$(on c --json agenda "$g" --scope south)
[ "$(json_get "$ag" '[x["id"] for x in j["cases"]["items"]]')" = "['$ks']" ] || fail "--scope south"

# Refused, one line each, exit 1 (2 for a command line ssp itself rejects).
expect_fail 1 on c due --before 2026-02-30
contains "$LAST_ERR" "real date"
expect_fail 1 on a due --scope south
contains "$LAST_ERR" "cannot read scope"
expect_fail 2 on c due --limit 0
expect_fail 1 on c agenda nonsense
contains "$LAST_ERR" "record id"
expect_fail 1 on c agenda "$m1"
contains "$LAST_ERR" "not a group"
expect_fail 1 on c agenda "$g" --date 2026-13-01
expect_fail 2 on c agenda
echo "test_work: ok"
