# Shared helpers for the integration tests: real sspd processes driven by
# the real ssp CLI in a temporary directory. Source it from a test script.
set -euo pipefail

SSP_BIN=${SSP_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build/release" && pwd)}
SSP="$SSP_BIN/ssp"
SSPD="$SSP_BIN/sspd"
export SSP_PASSPHRASE="correct horse battery staple"

T=$(mktemp -d /tmp/ssp-it.XXXXXX)
export SSP_DIR="$T/node"

# at_exit CMD: runs CMD (eval'd) when the test ends, before the daemons are
# stopped, without changing the test's exit status.
AT_EXIT=()
at_exit() { AT_EXIT+=("$1"); }

cleanup() {
    local status=$? c
    for c in "${AT_EXIT[@]}"; do eval "$c" || true; done
    # Stop any daemon this test started, whatever state it is in.
    for lock in "$T"/*/sspd.lock; do
        [ -f "$lock" ] || continue
        pid=$(head -c 32 "$lock" | tr -dc 0-9)
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    done
    # A sanitizer report from a daemon goes to its log, not to this test's exit code.
    if grep -s -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*/sspd.log; then
        echo "FAIL: a sanitizer reported a problem in sspd (above)" >&2
        status=1
    fi
    rm -rf "$T"
    exit $status
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# ssp with the test's node directory.
ssp() { "$SSP" "$@"; }

# Creates and starts a node in $SSP_DIR (fast passphrase hardening for tests).
node_up() {
    ssp init --name "${1:-test node}" --central --scope "${2:-north}" --kdf interactive >/dev/null
    ssp start >/dev/null
}

# expect_fail CODE CMD...: CMD must exit with CODE and print one line on stderr.
expect_fail() {
    local want=$1; shift
    local out rc=0
    out=$("$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" -eq "$want" ] || fail "'$*' exited $rc, wanted $want: $out"
    [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "'$*' printed more than one line: $out"
    LAST_ERR=$out
}

# contains TEXT NEEDLE
contains() {
    case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac
}

# json_get JSON EXPR: evaluates a Python expression on the parsed JSON as `j`.
json_get() {
    python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# The id of the record a `--json` add printed.
add_id() {
    json_get "$(ssp --json add "$@")" 'j["id"]'
}

count() {
    json_get "$(ssp --json list "$@")" 'len(j)'
}

# ---- networks of nodes, each in $T/NAME ----

# on NAME ssp-args...: ssp on node NAME.
on() { local n=$1; shift; "$SSP" --dir "$T/$n" "$@"; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

node_id() { json_get "$(on "$1" --json status)" 'j["node_id"]'; }

# central NAME PORT SCOPES: a central listening on 127.0.0.1:PORT.
central() {
    on "$1" init --name "$1" --central --scope "$3" --kdf interactive >/dev/null
    on "$1" start --listen "127.0.0.1:$2" >/dev/null
}

# member NAME CENTRAL SCOPES ADDR [ROLE]: a node enrolled on CENTRAL that
# dials it at ADDR and has synced once (so it holds its keys).
member() {
    local id
    id=$(on "$1" init --name "$1" --kdf interactive)
    on "$2" enrol "$id" --name "$1" --scope "$3" --role "${5:-member}" >/dev/null
    on "$1" start >/dev/null
    on "$1" peer add "$(node_id "$2")" "$4" >/dev/null
    on "$1" sync >/dev/null
}

# state_of NAME SCOPE: the node's state hash of SCOPE.
state_of() { json_get "$(on "$1" --json state)" "j['$2']['hash']"; }
