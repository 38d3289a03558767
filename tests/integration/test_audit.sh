#!/usr/bin/env bash
# The audit trail (issue 6, point 1): each read of data about young people and
# each change leaves an entry with the OS user, the action, the records and the
# purpose; entries reach the central with the next sync, offline reads too;
# `ssp audit verify` passes, then catches an altered, a removed and an
# inserted entry.
. "$(dirname "$0")/lib.sh"

AUDITKIT=${SSP_AUDITKIT:-$SSP_BIN/tests/auditkit}
ME=$(id -un)
cport=$(free_port)
central c "$cport" north,south
member a c north "127.0.0.1:$cport"

# The entries of node NAME that name record ID, as JSON.
entries() { on "$1" --json audit show --record "$2" --limit 10000; }
# last NAME ID EXPR: EXPR on the newest entry naming ID (as `e`).
last() { json_get "$(entries "$1" "$2")" "(lambda e: $3)(j[-1])"; }
# expect_entry NAME ID ACTION [PURPOSE]: the newest entry about ID is ACTION by us.
expect_entry() {
    local got purpose=None
    [ -z "${4:-}" ] || purpose="'$4'"
    got=$(last "$1" "$2" '(e["action"], e["user"], e["purpose"], e["scope"])')
    [ "$got" = "('$3', '$ME', $purpose, 'north')" ] ||
        fail "entry about $2 on $1: $got, wanted $3 by $ME, purpose ${4:-none}"
}
total() { json_get "$(on "$1" --json audit show --limit 10000)" 'len(j)'; }

# ---- changes ----
p=$(json_get "$(on a --json add person alias="Mads Kirk" birth_year=2010)" 'j["id"]')
expect_entry a "$p" create
on a set "$p" school=Nord >/dev/null
expect_entry a "$p" update
n=$(json_get "$(on a --json note "$p" talked to the school)" 'j["id"]')
expect_entry a "$n" create
printf '%s\n' '{"type": "person", "fields": {"alias": "Ida"}}' \
    '{"type": "person", "fields": {"alias": "Ole"}}' >"$T/import.jsonl"
on a import "$T/import.jsonl" >/dev/null
imported=$(json_get "$(on a --json list person --where alias=Ida)" 'j[0]["id"]')
# One entry for the whole batch, naming both records (the list after it is a read).
[ "$(json_get "$(entries a "$imported")" '[(e["action"], len(e["records"])) for e in j]')" = \
    "[('create', 2), ('list', 1)]" ] || fail "an import is one entry"
on a delete "$imported" >/dev/null
expect_entry a "$imported" delete
# A change of a concern or case says on what legal basis and with what consent.
k=$(json_get "$(on a --json add concern person="$p" date=2026-11-02 categories=absence level=1 \
    status=new legal_basis=s115 consent=overridden consent_reason="acute risk")" 'j["id"]')
expect_entry a "$k" create
[ "$(last a "$k" '(e["legal_basis"], e["consent"])')" = "(['s115'], ['overridden'])" ] ||
    fail "the entry of a change names its legal basis and consent"
on a set "$k" consent=given >/dev/null
[ "$(last a "$k" '(e["action"], e["legal_basis"], e["consent"])')" = \
    "('update', ['s115'], ['given'])" ] || fail "an update's entry has the basis it left"
contains "$(on a audit show --record "$k")" "basis: s115  consent: given"
[ "$(last a "$p" 'e["legal_basis"]')" = None ] || fail "a person's entry has no basis"

# ---- reads, with and without a purpose ----
on a show "$p" --purpose "case review" >/dev/null
expect_entry a "$p" show "case review"
on a list person --purpose "weekly list" >/dev/null
expect_entry a "$p" list "weekly list"
# A list page is one entry naming every record shown.
[ "$(last a "$p" 'len(e["records"])')" = 2 ] || fail "a list page is one entry"
on a find Mads >/dev/null
expect_entry a "$p" find
on a history "$p" --purpose "who changed it" >/dev/null
expect_entry a "$p" history "who changed it"
on a person find --alias mads --purpose "duplicate check" >/dev/null
expect_entry a "$p" person_find "duplicate check"
# Adding a probable duplicate shows the person it matches: a lookup of that person.
twin=$(json_get "$(on a --json add person alias="Mads Kirk" birth_year=2010)" 'j["id"]')
expect_entry a "$twin" create
expect_entry a "$p" person_find
# Showing the note shows whom it is about: an entry for both.
on a show "$n" >/dev/null
expect_entry a "$n" show
expect_entry a "$p" show
# The directory and the trail itself are not data about young people: no entry.
before=$(total a)
on a list member >/dev/null
on a list audit >/dev/null
on a audit show >/dev/null
[ "$(total a)" = "$before" ] || fail "reading the directory or the trail left an entry"
# The trail is not in find unless asked for.
[ "$(json_get "$(on a --json find "$ME")" 'len(j)')" = 0 ] || fail "find lists audit entries"
# No one adds entries but sspd.
expect_fail 1 on a add audit user=x action=show seq=1 prev=0
contains "$LAST_ERR" "written by sspd itself"
# Filters.
[ "$(json_get "$(on a --json audit show --user nobody-else)" 'len(j)')" = 0 ] || fail "--user"
[ "$(json_get "$(on a --json audit show --since 2099-01-01)" 'len(j)')" = 0 ] || fail "--since"
[ "$(json_get "$(on a --json audit show --limit 1)" 'len(j)')" = 1 ] || fail "--limit"
expect_fail 1 on a audit show --since yesterday

out=$(on a audit verify)
contains "$out" "audit trail intact: 1 chains"

# ---- an offline read reaches the central ----
on c stop >/dev/null
on a show "$p" --purpose "offline visit" >/dev/null
on c start --listen "127.0.0.1:$cport" >/dev/null
on a sync >/dev/null
expect_entry c "$p" show "offline visit"
[ "$(last c "$p" 'e["node"]')" = "$(node_id a)" ] || fail "the central names the reading node"
out=$(on c audit verify)
contains "$out" "audit trail intact"

# ---- tampering, with the store file and the keys but without re-signing ----
# kinds: the kinds of break `audit verify` reports on a (it must exit 1).
kinds() {
    local json rc=0
    json=$(on a --json audit verify) || rc=$?
    [ "$rc" -eq 1 ] || fail "audit verify exited $rc on a broken trail"
    json_get "$json" 'sorted(set(p["kind"] for p in j["problems"]))'
}
seq_id() {
    json_get "$(on a --json audit show --limit 10000)" \
        "[e['id'] for e in j if e['seq'] == $1 and e['node'] == '$(node_id a)'][0]"
}
second=$(seq_id 2)
fourth=$(seq_id 4)
sixth=$(seq_id 6)
on a stop >/dev/null
"$AUDITKIT" "$T/a" alter "$second"
on a start >/dev/null
[ "$(kinds)" = "['altered']" ] || fail "altered entry: $(kinds)"
expect_fail 1 on a audit verify
contains "$LAST_ERR" "audit trail broken"
on a stop >/dev/null
"$AUDITKIT" "$T/a" remove "$fourth"
on a start >/dev/null
[ "$(kinds)" = "['altered', 'removed']" ] || fail "removed entry: $(kinds)"
on a stop >/dev/null
"$AUDITKIT" "$T/a" insert "$sixth" >/dev/null
on a start >/dev/null
[ "$(kinds)" = "['altered', 'inserted', 'removed']" ] || fail "inserted entry: $(kinds)"
# The entries the central received are as they were: its copy still verifies.
out=$(on c audit verify)
contains "$out" "audit trail intact"
echo "ok"
