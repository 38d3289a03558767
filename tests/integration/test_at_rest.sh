#!/usr/bin/env bash
# What is written is encrypted at rest: the store file holds none of the
# values, yet it is an ordinary LMDB environment (mdb_stat reads it).
. "$(dirname "$0")/lib.sh"
node_up
p=$(add_id person alias=ZebraCanaryAlias birth_year=2010 school=CanarySchoolName)
add_id concern person="$p" date=2026-11-02 categories=absence level=1 status=new legal_basis=s115 \
    description="PlaintextCanaryDescription seen near the harbour" >/dev/null
ssp stop >/dev/null

for v in ZebraCanaryAlias CanarySchoolName PlaintextCanaryDescription harbour; do
    if strings -n 6 "$SSP_DIR/data.mdb" | grep -q "$v"; then fail "plaintext '$v' in data.mdb"; fi
    if grep -rqa "$v" "$SSP_DIR"; then fail "plaintext '$v' in the node directory"; fi
done
stat=$(mdb_stat -a "$SSP_DIR")
for db in meta streams log records index; do contains "$stat" "Status of $db"; done

# The canary is really there: readable through the daemon with the passphrase.
ssp start >/dev/null
contains "$(ssp show "$p")" ZebraCanaryAlias
ssp stop >/dev/null
echo "at rest: ok"
