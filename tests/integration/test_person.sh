#!/usr/bin/env bash
# Persons (issue 5, point 2): ssp person find by alias prefix, birth year and
# national id; a national id given to add is stored only as the person's pid,
# the same on every node of the network, so a young person added in two areas
# has one pid; and the raw id is nowhere in a node directory, log or output.
. "$(dirname "$0")/lib.sh"

ID=0101051234
DASHED=010105-1234
OUT="$T/outputs"
cport=$(free_port)
central c "$cport" north,south
member a c north "127.0.0.1:$cport"
member b c south "127.0.0.1:$cport"
# Every output of a command that saw the id is kept, to look for the id in it.
run() { local n=$1; shift; on "$n" "$@" 2>&1 | tee -a "$OUT"; }
pid_of() { json_get "$(on "$1" --json show "$2")" 'j["fields"]["pid"]'; }
found() { json_get "$(run "$1" --json person find "${@:2}")" 'sorted(p["id"] for p in j)'; }
ids() { python3 -c 'import sys; print(sorted(sys.argv[1:]))' "$@"; }

pa=$(json_get "$(run a --json add person --national-id "$DASHED" alias="Mads Kirk" \
    birth_year=2010)" 'j["id"]')
pb=$(json_get "$(run b --json add person --national-id "$ID" alias="M.K." birth_year=2010)" \
    'j["id"]')
other=$(json_get "$(on a --json add person alias="Maja Holm" birth_year=2011)" 'j["id"]')

# One pid for the same id, dash or not, made on two area nodes; 64 hex digits.
[ "$(pid_of a "$pa")" = "$(pid_of b "$pb")" ] || fail "pid differs between areas"
[ "$(pid_of a "$pa" | tr -d '0-9a-f' | wc -c)" -eq 1 ] || fail "pid form"
[ "$(pid_of a "$pa" | wc -c)" -eq 65 ] || fail "pid length"

# Find by national id on each area node, and on the central that reads both areas.
[ "$(found a --national-id "$ID")" = "$(ids "$pa")" ] || fail "a by national id"
[ "$(found b --national-id "$DASHED")" = "$(ids "$pb")" ] || fail "b by national id"
on a sync >/dev/null
on b sync >/dev/null
[ "$(found c --national-id "$ID")" = "$(ids "$pa" "$pb")" ] || fail "central: both areas"
[ "$(found a --national-id 0101051235)" = "[]" ] || fail "another id"

# By alias (case-insensitive prefix) and birth year; all criteria must hold.
[ "$(found a --alias ma)" = "$(ids "$pa" "$other")" ] || fail "alias prefix"
[ "$(found a --alias "MADS K")" = "$(ids "$pa")" ] || fail "alias any case"
[ "$(found a --alias kirk)" = "[]" ] || fail "alias is a prefix, not a substring"
oe=$(json_get "$(on a --json add person alias="Østergård" birth_year=2012)" 'j["id"]')
[ "$(found a --alias øster)" = "$(ids "$oe")" ] || fail "alias folds Latin-1 letters as find does"
[ "$(found a --birth-year 2011)" = "$(ids "$other")" ] || fail "birth year"
[ "$(found a --alias ma --birth-year 2010)" = "$(ids "$pa")" ] || fail "all criteria"
[ "$(found c --birth-year 2010 --scope south)" = "$(ids "$pb")" ] || fail "--scope"
out=$(run a person find --national-id "$ID")
contains "$out" "$pa  north     Mads Kirk"
contains "$out" "2010"
[ "$(on a person find --alias zz)" = "nothing found" ] || fail "nothing found"

# Refusals: one line, saying what to do, never repeating the id.
expect_fail 1 on a person find --national-id 01010512345
contains "$LAST_ERR" "national id: give 10 digits"
case "$LAST_ERR" in *01010512345*) fail "the bad id was repeated" ;; esac
expect_fail 1 on a add person alias=X --national-id 010105x234
contains "$LAST_ERR" "national id"
expect_fail 1 on a add concern --national-id "$ID" date=2026-11-01
contains "$LAST_ERR" "only for a person"
expect_fail 1 on a add person alias=X --national-id "$ID" pid="$(pid_of a "$pa")"
contains "$LAST_ERR" "not both"
expect_fail 1 on a person find
contains "$LAST_ERR" "give an alias, a birth year or a national id"
expect_fail 1 on a person find --birth-year 20x0

# The raw id is in no node's files (stores, logs, config) and in no output.
for n in c a b; do on "$n" stop >/dev/null; done
for v in "$ID" "$DASHED"; do
    if grep -rqa -- "$v" "$T/c" "$T/a" "$T/b" "$OUT"; then fail "raw id $v found"; fi
done
echo ok
