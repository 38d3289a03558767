#!/usr/bin/env bash
# Retention (issue 6, point 3), with an injected clock (SSP_TEST_CLOCK_MS; the
# days are in the future, as a node's clock only moves forward), on a central
# and an area node: `ssp retention list` names what has expired under the
# rules and why; plans, notes, concerns and cases go with what they belong to;
# a hold keeps a record and what it belongs to; the rules come from ssp.conf's
# [retention]; `ssp retention run` on the central purges the rest everywhere.
. "$(dirname "$0")/lib.sh"

ms() { python3 -c 'import sys,datetime as d; print(int(d.datetime.fromisoformat(sys.argv[1]+"T12:00:00+00:00").timestamp()*1000))' "$1"; }
port=$(free_port)
restart_at() {
    export SSP_TEST_CLOCK_MS
    SSP_TEST_CLOCK_MS=$(ms "$1")
    on c stop >/dev/null
    on a stop >/dev/null
    on c start --listen "127.0.0.1:$port" >/dev/null
    on a start >/dev/null
    on a sync >/dev/null
}
id() { json_get "$(on a --json add "$@")" 'j["id"]'; }
ssp() { on a "$@"; }
expired() { json_get "$(ssp --json retention list)" \
    'sorted((r["id"], r["rule"], r["expired"], r["follows"] or "", r["kept"], (r["hold"] or {}).get("reason", "")) for r in j["records"])'; }
row() { python3 -c 'import sys; print(tuple(sys.argv[1:5]) + (sys.argv[5] == "True", sys.argv[6]))' "$@"; }
rows() { python3 -c 'import sys,ast; print(sorted(ast.literal_eval(l) for l in sys.argv[1:]))' "$@"; }

export SSP_TEST_CLOCK_MS
SSP_TEST_CLOCK_MS=$(ms 2028-01-15)
central c "$port" north
member a c north "127.0.0.1:$port"
p1=$(id person alias=P1 birth_year=2010)
k1=$(id concern person="$p1" date=2028-01-10 categories=absence level=1 status=new legal_basis=s115)
p2=$(id person alias=P2 birth_year=2000)
k2=$(id concern person="$p2" date=2025-06-01 categories=theft level=2 status=assessed legal_basis=s115)
n2=$(json_get "$(ssp --json note "$k2" talked to the family)" 'j["id"]')
p3=$(id person alias=P3 birth_year=2012)
c3=$(id case person="$p3" track=ssp level=2 opened=2027-09-01 closed=2028-01-10 status=closed \
    legal_basis=consent)
pl3=$(id plan case="$c3" goal="Back in school")
g=$(json_get "$(on c --json add group --scope network name=G)" 'j["id"]')
on a sync >/dev/null
m=$(id meeting group="$g" date=2028-01-05 minutes="Went well")
p4=$(id person alias=P4 birth_year=2011)
k4=$(id concern person="$p4" date=2028-01-12 categories=drugs level=2 status=new legal_basis=s115)
p5=$(id person alias=P5 birth_year=2011)
k5=$(id concern person="$p5" date=2028-01-12 categories=drugs level=2 status=case_opened \
    legal_basis=s115)

# Nothing but the aged-out person (and what is about it) has expired yet.
[ "$(expired)" = "$(rows "$(row "$p2" person_age 2026-01-01 '' False '')" \
    "$(row "$k2" person_age 2026-01-01 "$p2" False '')" \
    "$(row "$n2" person_age 2026-01-01 "$k2" False '')")" ] || fail "on day one: $(expired)"

# A hold keeps a record for a record-keeping duty, and what it belongs to.
hold=$(json_get "$(ssp --json retention hold "$k4" --reason "complaint pending")" 'j["id"]')
[ "$(json_get "$(ssp --json show "$hold")" 'j["fields"]["record"]')" = "$k4" ] || fail "hold"
expect_fail 2 ssp retention hold "$k4"
contains "$LAST_ERR" "--reason"
expect_fail 1 ssp retention hold "$k4" --reason x --until 2028-02-30
contains "$LAST_ERR" "hold.until"

# A year later: the concern that never became a case; the held one stays, named.
restart_at 2029-02-01
want=$(rows "$(row "$p2" person_age 2026-01-01 '' False '')" \
    "$(row "$k2" person_age 2026-01-01 "$p2" False '')" \
    "$(row "$n2" person_age 2026-01-01 "$k2" False '')" \
    "$(row "$k1" concern 2029-01-15 '' False '')" \
    "$(row "$k4" concern 2029-01-15 '' True 'complaint pending')")
[ "$(expired)" = "$want" ] || fail "a year on: $(expired)"
out=$(ssp retention list)
contains "$out" "$k4  concern"
contains "$out" "HELD: complaint pending"
contains "$out" "with $p2"

# Three years on: the closed case (with its plan), the minutes; the person of the
# case is still named by it, so it stays until the case goes.
restart_at 2031-02-01
got=$(expired)
for want in "$(row "$c3" case 2030-01-10 '' False '')" "$(row "$pl3" case 2030-01-10 "$c3" False '')" \
    "$(row "$m" meeting 2031-01-05 '' False '')"; do
    contains "$got" "$want"
done
case "$got" in *"'$p3'"* | *"'$k5'"* | *"'$p5'"*) fail "kept records listed: $got" ;; esac
# A released hold keeps nothing.
ssp delete "$hold" >/dev/null
contains "$(expired)" "$(row "$k4" concern 2029-01-15 '' False '')"

# The rules are the node's: ssp.conf [retention] changes them, 0 keeps.
contains "$(ssp retention rules)" "concern"
printf '[retention]\nconcern = 0\nmeeting = 48\n' >>"$T/a/ssp.conf"
restart_at 2031-02-01
got=$(expired)
case "$got" in *"'$k1'"* | *"'$m'"*) fail "the config was not applied: $got" ;; esac
[ "$(json_get "$(ssp --json retention rules)" '[r["value"] for r in j if r["name"] == "meeting"]')" = "[48]" ] ||
    fail "rules show the config"

# The run, on the central only: what expired goes everywhere, the held record and
# what it belongs to stay, and the logs still verify.
expect_fail 1 on a retention run
contains "$LAST_ERR" "runs on the central"
ssp delete "$hold" >/dev/null 2>&1 || true
hold=$(json_get "$(ssp --json retention hold "$c3" --reason "appeal pending")" 'j["id"]')
on a sync >/dev/null
due=$(json_get "$(on c --json retention list)" 'json.dumps([r["id"] for r in j["records"] if not r["kept"]])')
out=$(on c --json retention run)
# What was listed, and then P1 and P4, whom no concern names once theirs are gone.
[ "$(json_get "$out" 'j["purged"]')" = "$(json_get "$due" 'len(j) + 2')" ] || fail "run purged: $out"
due=$(json_get "$due" 'json.dumps(j + ["'"$p1"'", "'"$p4"'"])')
[ "$(json_get "$out" 'j["kept"]')" = 1 ] || fail "run kept: $out"
on a sync >/dev/null
for r in $(json_get "$due" '" ".join(j)'); do
    for n in c a; do
        expect_fail 1 on "$n" show "$r"
        contains "$LAST_ERR" "was purged"
    done
done
for r in "$c3" "$pl3" "$p3" "$p5" "$k5"; do
    [ "$(json_get "$(on a --json show "$r")" 'j["deleted"]')" = False ] || fail "$r was not kept"
done
[ "$(json_get "$(on c --json retention list)" '[r["id"] for r in j["records"] if not r["kept"]]')" = "[]" ] ||
    fail "something expired is left"
on a verify >/dev/null
on c verify >/dev/null
[ "$(state_of a north)" = "$(state_of c north)" ] || fail "north differs after the run"
# Nor does a purge by hand take a held record.
expect_fail 1 on c purge "$c3" --reason "by hand"
contains "$LAST_ERR" "on hold"
[ "$(json_get "$(on c --json show "$c3")" 'j["deleted"]')" = False ] || fail "held case purged"

on a stop >/dev/null
printf 'concern = forever\n' >>"$T/a/ssp.conf"
expect_fail 1 on a start
contains "$LAST_ERR" "[retention] concern = forever is not a valid setting"
echo ok
