#!/usr/bin/env python3
"""Random schedules of writes and syncs among real nodes, then convergence.

    sync_random.py SSP ROOT ROUNDS [FIRST_SEED]

A central (scopes north, south) and three members: a1 and a2 in north (a1
also syncs with a2 directly), b1 in south. Each round, with its own seed:
some links go down, nodes write at random (some writes run while syncs do),
random pairs sync, then every link comes up and the nodes sync until they
agree; every node holding a scope must then report the same state hash for
it, every store must verify, and no node may hold a scope it may not read.
"""
import json
import random
import socket
import subprocess
import sys

SSP, ROOT, ROUNDS = sys.argv[1], sys.argv[2], int(sys.argv[3])
FIRST = int(sys.argv[4]) if len(sys.argv) > 4 else 1


def ssp(node, *args, check=True):
    r = subprocess.run([SSP, "--dir", "%s/%s" % (ROOT, node)] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise SystemExit("FAIL: ssp %s %s: %s" % (node, " ".join(args), r.stderr.strip()))
    return r


def js(node, *args):
    return json.loads(ssp(node, "--json", *args).stdout)


def port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


SCOPES = {"c": ["north", "south", "network"], "a1": ["north", "network"],
          "a2": ["north", "network"], "b1": ["south", "network"]}
ports = {n: port() for n in SCOPES}
ssp("c", "init", "--name", "c", "--central", "--scope", "north,south", "--kdf", "interactive")
ssp("c", "start", "--listen", "127.0.0.1:%d" % ports["c"])
ids = {"c": js("c", "status")["node_id"]}
for n, scope in (("a1", "north"), ("a2", "north"), ("b1", "south")):
    ids[n] = ssp(n, "init", "--name", n, "--kdf", "interactive").stdout.strip()
    ssp("c", "enrol", ids[n], "--name", n, "--scope", scope)
    ssp(n, "start", "--listen", "127.0.0.1:%d" % ports[n])
# (dialler, listener)
LINKS = [("a1", "c"), ("a2", "c"), ("b1", "c"), ("a1", "a2")]
for d, l in LINKS:
    ssp(d, "peer", "add", ids[l], "127.0.0.1:%d" % ports[l])
for d in ("a1", "a2", "b1"):
    ssp(d, "sync", ids["c"])

known = {"north": [], "south": [], "network": []}  # ids every holder has


def link_up(d, l):
    ssp(d, "peer", "add", ids[l], "127.0.0.1:%d" % ports[l])


def write(rng, node, mine, background):
    """One random write on node; returns a Popen if background."""
    scope = rng.choice(SCOPES[node])
    pool = known[scope] + mine[scope]
    kind = rng.random()
    if scope == "network":
        args = ["add", "member", "--scope", "network", "name=M%d" % rng.randint(0, 10**6),
                "org=school"]
    elif kind < 0.45 or not pool:
        args = ["add", "person", "--scope", scope, "alias=P%d" % rng.randint(0, 999),
                "birth_year=%d" % rng.randint(2001, 2020)]
    elif kind < 0.85:
        args = ["set", rng.choice(pool), "alias=E%d" % rng.randint(0, 999)]
    else:
        args = ["note", rng.choice(pool), "note", str(rng.randint(0, 10**6))]
    cmd = [SSP, "--dir", "%s/%s" % (ROOT, node), "--json"] + args
    if background:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit("FAIL: %s: %s" % (" ".join(args), r.stderr.strip()))
    if args[0] == "add" and scope != "network":
        mine[scope].append(json.loads(r.stdout)["id"])
    return None


def converge():
    for d, l in LINKS:
        link_up(d, l)
    for _ in range(3):
        for d in ("a1", "a2", "b1"):
            ssp(d, "sync", "--timeout", "60")
    states = {n: js(n, "state") for n in SCOPES}
    for scope in ("north", "south", "network"):
        holders = [n for n in SCOPES if scope in SCOPES[n]]
        hashes = {states[n].get(scope, {}).get("hash") for n in holders}
        if len(hashes) != 1:
            raise SystemExit("FAIL: scope %s differs: %s" % (
                scope, {n: states[n].get(scope) for n in holders}))
        for n in SCOPES:
            if n not in holders and scope in states[n]:
                raise SystemExit("FAIL: %s holds scope %s" % (n, scope))
    for n in SCOPES:
        ssp(n, "verify")


for seed in range(FIRST, FIRST + ROUNDS):
    rng = random.Random(seed)
    # ids made this round, by the node that made them (others may not have them yet)
    mine = {n: {"north": [], "south": [], "network": []} for n in SCOPES}
    for d, l in LINKS:
        if rng.random() < 0.5:
            ssp(d, "peer", "remove", ids[l])
    running = []
    for _ in range(rng.randint(6, 14)):
        node = rng.choice(list(SCOPES))
        p = write(rng, node, mine[node], rng.random() < 0.3)
        if p is not None:
            running.append(p)
        if rng.random() < 0.35:
            d, l = rng.choice(LINKS)
            link_up(d, l)
            ssp(d, "sync", ids[l], "--timeout", "60")
    for p in running:
        if p.wait() != 0:
            raise SystemExit("FAIL: a background write failed: %s" % p.stderr.read().decode())
    converge()
    for n in mine:
        for s in mine[n]:
            known[s] += mine[n][s]
    print("seed %d: converged (%s)" % (seed, ", ".join("%s %d" % (s, len(known[s]))
                                                       for s in ("north", "south"))))
