#!/usr/bin/env bash
# Domain validation through the real CLI (issue 5, point 1): real dates,
# plausible birth years, ages 0-25 at the record's date, SSP+ only for 18-25,
# levels 1-4, closed cases with a close date on or after opened, refs to the
# right type. Each refusal is one line, exit 1, and writes nothing. Then the
# rules that read the clock or other records are shown to be write-time only:
# an area node whose clock is a year behind takes the central's commits that
# it would refuse to write itself, and both end in the same state.
. "$(dirname "$0")/lib.sh"

cport=$(free_port)
central c "$cport" north
year=$(date +%Y)
# Writes go to c unless told.
ssp() { on c "$@"; }

p=$(add_id person alias=MK birth_year=2010)
m=$(add_id member --scope network name="Anna Holm" org=police)
k=$(add_id case person="$p" track=ssp level=2 opened=2026-02-01 status=open legal_basis=s115)
commits() { json_get "$(ssp --json status)" 'j["commits"]'; }
base=$(commits)

# refused NEEDLE... -- CMD: fails with exit 1, the message names NEEDLEs, nothing written.
refused() {
    local needles=()
    while [ "$1" != "--" ]; do needles+=("$1"); shift; done
    shift
    expect_fail 1 "$@"
    for n in "${needles[@]}"; do contains "$LAST_ERR" "$n"; done
    [ "$(commits)" = "$base" ] || fail "'$*' wrote something"
}

C="categories=absence status=new legal_basis=s115"
# Real calendar dates.
refused "concern.date" "'2026-02-30'" "real date" -- ssp add concern person="$p" \
    date=2026-02-30 level=1 $C
refused "concern.date" "'2025-02-29'" -- ssp add concern person="$p" date=2025-02-29 level=1 $C
ssp add concern person="$p" date=2024-02-29 level=1 $C >/dev/null || fail "2024-02-29 is a real date"
base=$(commits)
# Plausible birth years: 1990 to this year.
refused "person.birth_year" "1985 is not plausible" "from 1990 to $year" -- \
    ssp add person alias=Old birth_year=1985
refused "person.birth_year" "$((year + 1)) is not plausible" -- \
    ssp add person alias=Unborn birth_year=$((year + 1))
refused "person.birth_year" "1989" -- ssp set "$p" birth_year=1989
# Ages 0-25 at the record's date.
refused "concern.person" "was not born yet on date 2009-05-01" -- \
    ssp add concern person="$p" date=2009-05-01 level=1 $C
refused "concern.person" "was 27 or 28 on date 2038-03-01" "ages 0-25" -- \
    ssp add concern person="$p" date=2038-03-01 level=1 $C
# Levels 1-4.
refused "concern.level" "1 to 4" -- ssp add concern person="$p" date=2026-03-01 level=0 $C
# Information about a named young person is shared on a legal basis, and says which.
refused "concern" "a concern about a person needs its legal_basis" -- \
    ssp add concern person="$p" date=2026-03-01 level=1 categories=absence status=new
refused "case" "needs its legal_basis" -- ssp set "$k" legal_basis=
refused "case.level" "1 to 4" -- ssp set "$k" level=5
# SSP+ only for 18-25 at opened, whether opened so or moved to it.
refused "case.track" "ssp_plus is for persons aged 18-25" "15 or 16 on opened 2026-02-01" \
    "use track=ssp" -- ssp add case person="$p" track=ssp_plus level=3 opened=2026-02-01 status=open legal_basis=s115
refused "case.track" "ssp_plus" -- ssp set "$k" track=ssp_plus
q=$(add_id person alias=NoYear)
base=$(commits)
refused "case.track" "has no birth_year" "birth_year=YYYY" -- \
    ssp add case person="$q" track=ssp_plus level=3 opened=2026-02-01 status=open legal_basis=s115
# A closed case needs its close date, on or after opened.
refused "case" "status 'closed' needs the closed date" -- ssp set "$k" status=closed
refused "closed 2026-01-15 is before opened 2026-02-01" -- \
    ssp set "$k" status=closed closed=2026-01-15
# Refs to a record of the right type.
refused "case.person" "is a member, not a person" -- \
    ssp add case person="$m" track=ssp level=1 opened=2026-02-01 status=open legal_basis=s115
refused "plan.case" "no record" -- ssp add plan case=01JD3XK2M4N5P6Q7R8S9T0VWXM goal=x

# And what the rules let through.
plus=$(add_id case person="$p" track=ssp_plus level=3 opened=2028-06-01 status=open legal_basis=s115)
[ "$(json_get "$(ssp --json show "$plus")" 'j["fields"]["track"]')" = ssp_plus ] || fail "SSP+ at 17-18"
ssp set "$k" status=closed closed=2026-06-30 >/dev/null || fail "closing with a date"
# An edit that leaves the person and the dates alone is not held to them again.
ssp set "$k" level=3 >/dev/null || fail "an edit of the level"

# The area node a runs with its clock on 1 January of last year.
last=$(python3 -c "import datetime; print(int(datetime.datetime($year - 1, 1, 1, 12).timestamp() * 1000))")
aid=$(on a init --name a --kdf interactive)
on c enrol "$aid" --name a --scope north >/dev/null
SSP_TEST_CLOCK_MS=$last on a start >/dev/null
on a peer add "$(node_id c)" "127.0.0.1:$cport" >/dev/null
on a sync >/dev/null
# Born this year: fine on c, not yet possible by a's clock.
young=$(add_id person alias=Baby birth_year="$year")
on a sync >/dev/null
[ "$(json_get "$(on a --json show "$young")" 'j["fields"]["birth_year"]')" = "$year" ] ||
    fail "a did not take a record its clock would not let it write"
[ "$(state_of a north)" = "$(state_of c north)" ] || fail "a and c differ on north"
expect_fail 1 on a add person alias=Baby2 birth_year="$year"
contains "$LAST_ERR" "person.birth_year: $year is not plausible"
echo "ok"
