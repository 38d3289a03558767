#!/usr/bin/env bash
# Random writes and random pairwise syncs among a central and three members,
# some writes while syncs run, then every pair converges to the same state
# hash per scope: 20 seeds (SSP_ROUNDS to change, SSP_SEED for the first).
. "$(dirname "$0")/lib.sh"
python3 "$(dirname "$0")/sync_random.py" "$SSP" "$T" "${SSP_ROUNDS:-20}" "${SSP_SEED:-1}"
