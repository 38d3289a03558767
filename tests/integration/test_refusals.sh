#!/usr/bin/env bash
# Every kind of bad write is refused with one clear line, exit code 1, and
# nothing is written; a wrong passphrase opens nothing; a second sspd on the
# same directory is refused.
. "$(dirname "$0")/lib.sh"
node_up
p=$(add_id person alias=MK birth_year=2011)
m=$(add_id member --scope network name="Anna Holm" org=police)
commits() { json_get "$(ssp --json status)" 'j["commits"]'; }
base=$(commits)

# refused CODE NEEDLE... -- CMD: fails with CODE, the message names NEEDLEs, nothing written.
refused() {
    local code=$1; shift
    local needles=()
    while [ "$1" != "--" ]; do needles+=("$1"); shift; done
    shift
    expect_fail "$code" "$@"
    for n in "${needles[@]}"; do contains "$LAST_ERR" "$n"; done
    [ "$(commits)" = "$base" ] || fail "'$*' wrote something"
}

refused 1 "unknown record type 'widget'" "concern" -- ssp add widget name=x
refused 1 "colour" "level" -- ssp add concern person="$p" date=2026-11-02 categories=absence \
    level=1 status=new colour=red
refused 1 "concern.level" -- ssp add concern person="$p" date=2026-11-02 categories=absence \
    level=high status=new
refused 1 "concern.level" "1 to 4" -- ssp add concern person="$p" date=2026-11-02 \
    categories=absence level=7 status=new
refused 1 "concern.categories" "fighting" "absence" -- ssp add concern person="$p" \
    date=2026-11-02 categories=fighting level=1 status=new
refused 1 "concern.status" "case_opened" -- ssp add concern person="$p" date=2026-11-02 \
    categories=absence level=1 status=open
refused 1 "concern.date" -- ssp add concern person="$p" date=2026-02-30 categories=absence \
    level=1 status=new
refused 1 "concern.date" -- ssp add concern person="$p" date=02-11-2026 categories=absence \
    level=1 status=new
refused 1 "missing" "date" -- ssp add concern person="$p" categories=absence level=1 status=new
refused 1 "concern.person" -- ssp add concern person=01JD3XK2M4N5P6Q7R8S9T0VWXM \
    date=2026-11-02 categories=absence level=1 status=new
refused 1 "concern.person" "member" -- ssp add concern person="$m" date=2026-11-02 \
    categories=absence level=1 status=new
refused 1 "plan.actions" -- ssp add plan goal=x actions=notjson
refused 1 "member" "network" -- ssp add member name=X org=police
refused 1 "person.birth_year" -- ssp set "$p" birth_year=nineteen
refused 1 "missing required field 'alias'" -- ssp set "$p" alias=
refused 1 "no record" -- ssp set 01JD3XK2M4N5P6Q7R8S9T0VWXM alias=x
refused 1 "scope" -- ssp add person --scope elsewhere alias=x
refused 2 "field" -- ssp add person alias
refused 1 "not a record id" -- ssp show not-an-id

# An import batch with one bad record writes none of the batch.
printf '%s\n' '{"type":"person","fields":{"alias":"A1"}}' \
    '{"type":"person","fields":{"alias":"A2","birth_year":"x"}}' >"$T/bad.jsonl"
refused 1 "bad.jsonl:2" "birth_year" -- ssp import "$T/bad.jsonl"
printf '%s\n' '{"type":"person","fields":{"alias":"A1"}}' '{"type": nope}' >"$T/syntax.jsonl"
refused 1 "syntax.jsonl:2" -- ssp import "$T/syntax.jsonl"
[ "$(count person)" = 1 ] || fail "a refused import left records"

# A second sspd on the same directory is refused while the first runs.
expect_fail 3 "$SSPD" run --dir "$SSP_DIR"
contains "$LAST_ERR" "another sspd"
ssp status >/dev/null || fail "the first sspd was disturbed"
ssp stop >/dev/null

# A wrong passphrase opens nothing.
SSP_PASSPHRASE=wrong expect_fail 4 ssp start
contains "$LAST_ERR" "wrong passphrase"
expect_fail 3 ssp status
ssp start >/dev/null
[ "$(count person)" = 1 ] || fail "records after the right passphrase"
ssp stop >/dev/null
echo "refusals: ok"
