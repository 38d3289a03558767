#!/usr/bin/env bash
# ssp find (issue 5, point 6): a case-insensitive search of the text fields
# of the records this node can read, across types and inside items, bounded
# and paged, narrowed by --scope and --type; an area node finds nothing of a
# scope it does not read; and no plaintext index reaches the disk.
. "$(dirname "$0")/lib.sh"

cport=$(free_port)
central c "$cport" north,south
ssp() { on c "$@"; }

p=$(add_id person alias="Mads Kirk" birth_year=2010 school="Nordskolen")
s=$(add_id person --scope south alias="Søren Ærø" birth_year=2011)
c1=$(add_id concern person="$p" date=2026-11-02 categories=absence level=2 status=new legal_basis=s115 \
    description="Seen at the STATION square with older youths")
i=$(add_id incident date=2026-11-03 place="Station square" status=open)
m=$(add_id member --scope network name="Anna Holm" org=police)
g=$(add_id group name="Lokalgruppe Nord")
mt=$(add_id meeting group="$g" date=2026-11-12 \
    'decisions:=[{"text":"Evening patrol at the quokka bridge","owner":"'"$m"'"}]')

hits() { json_get "$(ssp --json find "$@")" 'sorted(h["id"] for h in j)'; }
ids() { python3 -c 'import sys; print(sorted(sys.argv[1:]))' "$@"; }

# Any case, across types; each record once, with the field and the text around it.
[ "$(hits station)" = "$(ids "$c1" "$i")" ] || fail "station: $(hits station)"
[ "$(hits sTaTiOn SQUARE)" = "$(ids "$c1" "$i")" ] || fail "words joined, any case"
j=$(ssp --json find station --type concern)
[ "$(json_get "$j" 'j[0]["field"]')" = description ] || fail "field"
contains "$(json_get "$j" 'j[0]["excerpt"]')" "STATION square"
[ "$(hits station --type incident)" = "$(ids "$i")" ] || fail "--type"
# Inside items: a meeting decision.
[ "$(json_get "$(ssp --json find QUOKKA)" 'j[0]["field"]')" = "decisions[0].text" ] ||
    fail "items"
# Danish letters fold too; --scope narrows.
[ "$(hits "søren ærø")" = "$(ids "$s")" ] || fail "æøå folding"
[ "$(hits søren --scope north)" = "[]" ] || fail "--scope"
# Human output: one line per record, and a clear line when nothing is found.
out=$(ssp find station)
[ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] || fail "two lines: $out"
contains "$out" "$i  incident"
contains "$out" "place: Station square"
[ "$(ssp find zzz-nothing)" = "nothing found" ] || fail "nothing found"

# Bounded and paged: 250 hits, pages of at most 200, --limit and the default of 50.
python3 -c '
import json
for k in range(250):
    print(json.dumps({"type": "activity", "fields": {"kind": "general", "prevention": "proactive",
                      "title": "Theme day PAGING %d" % k, "date": "2026-10-01"}}))' >"$T/acts.jsonl"
ssp import "$T/acts.jsonl" >/dev/null
[ "$(json_get "$(ssp --json find paging --limit 1000)" 'len(set(h["id"] for h in j))')" = 250 ] ||
    fail "paging across pages"
[ "$(json_get "$(ssp --json find paging --limit 7)" 'len(j)')" = 7 ] || fail "--limit"
out=$(ssp find paging)
[ "$(printf '%s\n' "$out" | grep -c PAGING)" -eq 50 ] || fail "default limit"
contains "$out" "first 50 shown"

# Refusals: one line, exit 1 or 2.
expect_fail 1 ssp find x --type widget
contains "$LAST_ERR" "unknown record type 'widget'"
expect_fail 1 ssp find "$(printf 'x%.0s' $(seq 201))"
contains "$LAST_ERR" "give 1 to 200 bytes of text to find"
expect_fail 2 ssp find

# An area node for north finds north's records, and nothing of south.
member a c north "127.0.0.1:$cport"
[ "$(json_get "$(on a --json find station)" 'sorted(h["id"] for h in j)')" = "$(ids "$c1" "$i")" ] ||
    fail "a finds north's records"
[ "$(json_get "$(on a --json find søren)" 'len(j)')" = 0 ] || fail "a found south's person"

# No index: the searched words are nowhere in the store's files in clear.
ssp stop >/dev/null
if grep -rqa -i "quokka" "$T/c"; then fail "plaintext on disk"; fi
echo ok
