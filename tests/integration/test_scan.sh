#!/usr/bin/env bash
# ssp_scan (tests/tools/scan.c), the tool the deletion tests rely on, is not
# vacuous: a canary written to a record is not in any file as raw bytes
# (encrypted at rest), yet the decrypt pass finds it, in the log and in the
# records database, and in the commit and record carved from data.mdb's
# bytes; a word never written is not found; a wrong passphrase and a running
# daemon are refused, and so is a scan that decrypted nothing when asked
# to prove something (--expect-decrypt).
. "$(dirname "$0")/lib.sh"
SCAN="$SSP_BIN/ssp_scan"
[ -x "$SCAN" ] || fail "no ssp_scan in $SSP_BIN"

node_up
add_id person alias=QuokkaScanCanary birth_year=2011 >/dev/null
# Every key of every epoch is tried: a record written after a rotation opens with epoch 2.
ssp rotate north >/dev/null
add_id person alias=WombatScanCanary birth_year=2012 >/dev/null

# A running daemon holds the directory: the scan is refused.
expect_fail 2 "$SCAN" "$SSP_DIR" QuokkaScanCanary
contains "$LAST_ERR" "ssp stop"
ssp stop >/dev/null

# Raw must not find it, decrypted must: in each place the value lives.
rc=0
out=$("$SCAN" --expect-decrypt "$SSP_DIR" QuokkaScanCanary 2>"$T/summary") || rc=$?
[ "$rc" -eq 1 ] || fail "the canary was not found (exit $rc): $out $(cat "$T/summary")"
if printf '%s\n' "$out" | grep -q "(raw)"; then fail "canary raw on disk: $out"; fi
if printf '%s\n' "$out" | grep -q "(stored)"; then fail "canary stored in clear: $out"; fi
contains "$out" "FOUND QuokkaScanCanary in log commit north/"
contains "$out" "(decrypted with north epoch 1)"
contains "$out" "FOUND QuokkaScanCanary in record "
contains "$out" "/data.mdb at offset "
out=$("$SCAN" "$SSP_DIR" WombatScanCanary 2>/dev/null) || true
contains "$out" "FOUND WombatScanCanary in record "
contains "$out" "(decrypted with north epoch 2)"
if printf '%s\n' "$out" | grep -q "(raw)"; then fail "canary raw on disk: $out"; fi
# Case is ignored.
rc=0
"$SCAN" "$SSP_DIR" quokkascancanary >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "a lower-case needle was not found (exit $rc)"
summary=$(cat "$T/summary")
contains "$summary" "2 records"
if printf '%s\n' "$summary" | grep -q "decrypted 0 log ops"; then fail "no op decrypted: $summary"; fi

# A word never written: nothing found, exit 0, and the summary shows the work done.
rc=0
out=$("$SCAN" --expect-decrypt "$SSP_DIR" NeverWrittenScanCanary 2>"$T/summary") || rc=$?
[ "$rc" -eq 0 ] || fail "a word never written was reported (exit $rc): $out"
[ -z "$out" ] || fail "output for a word never written: $out"
contains "$(cat "$T/summary")" "files"

# Raw hits are reported: the node's name is in ssp.conf or the store in clear.
rc=0
out=$("$SCAN" "$SSP_DIR" "test node" 2>/dev/null) || rc=$?
[ "$rc" -eq 1 ] || fail "the node name was not found raw (exit $rc)"
contains "$out" "(raw)"

# A node with nothing sealed in it: --expect-decrypt says the scan proves nothing.
on empty init --name empty --central --scope north --kdf interactive >/dev/null
rc=0
err=$("$SCAN" --expect-decrypt "$T/empty" NeverWrittenScanCanary 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 2 ] || fail "--expect-decrypt on an empty node exited $rc: $err"
contains "$err" "decrypted 0 log ops, 0 records"
contains "$(printf '%s\n' "$err" | tail -1)" "nothing was decrypted"
rc=0
"$SCAN" "$T/empty" NeverWrittenScanCanary 2>/dev/null || rc=$?
[ "$rc" -eq 0 ] || fail "an empty node without --expect-decrypt exited $rc"

# A wrong passphrase is refused, whatever the needles.
SSP_PASSPHRASE="wrong horse" expect_fail 2 "$SCAN" "$SSP_DIR" QuokkaScanCanary
contains "$LAST_ERR" "passphrase"
expect_fail 2 "$SCAN" "$SSP_DIR"
echo "scan: ok"
