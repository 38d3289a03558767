#!/usr/bin/env bash
# kill -9 of sspd in the middle of an import of 100,000 records: after a
# restart the store opens, every acknowledged batch is there, no batch is
# there in part, and the log and the records agree (ssp verify).
. "$(dirname "$0")/lib.sh"
N=${SSP_KILL_RECORDS:-100000}
BATCH=5000
python3 "$(dirname "$0")/gen_records.py" "$N" >"$T/big.jsonl"
node_up

ssp import "$T/big.jsonl" --batch $BATCH --progress 2>"$T/progress" >/dev/null &
importer=$!
# Kill once some batches are acknowledged, while more are in flight.
for _ in $(seq 1 600); do
    [ "$(grep -c acknowledged "$T/progress" 2>/dev/null || true)" -ge 3 ] && break
    sleep 0.01
done
pid=$(head -c 32 "$SSP_DIR/sspd.lock" | tr -dc 0-9)
kill -9 "$pid"
wait "$importer" && fail "the import did not notice the daemon died"
acked=$(grep acknowledged "$T/progress" | tail -n 1 | tr -dc 0-9)
[ -n "$acked" ] && [ "$acked" -gt 0 ] || fail "no batch was acknowledged before the kill"
[ "$acked" -lt "$N" ] || fail "the import finished before the kill; nothing tested"

ssp start >/dev/null
have=$(json_get "$(ssp --json status)" 'j["live"]')
[ "$have" -ge "$acked" ] || fail "acknowledged $acked records but only $have are stored"
# A batch is its records and its audit entries, one per 1000 records, written together.
[ $((have % (BATCH + BATCH / 1000))) -eq 0 ] || fail "$have records stored: a batch was applied in part"
ssp verify >/dev/null || fail "verify after the crash"
# The store still takes writes after the crash.
add_id person alias=after-crash >/dev/null
ssp stop >/dev/null
echo "kill -9 during import: ok (acknowledged $acked, stored $have of $N)"
