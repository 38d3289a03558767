#!/usr/bin/env python3
"""A TCP proxy that behaves like a slow, lossy link, for tests (DESIGN §13).

    shapeproxy.py LISTEN_PORT TARGET_HOST:TARGET_PORT --seed N [--rate BITS_PER_S]
                  [--delay-ms MS] [--loss P] [--stall-ms MS] [--cuts K --min-cut B --max-cut B]
                  [--stats FILE]

Each direction of each connection is a link of its own: bytes are taken in
segments of at most 1448 bytes, each goes onto the link once the segments
before it have left (rate bits/s, so a link never carries more than that),
and reaches the other side delay-ms later (250 each way is a 500 ms round
trip). With probability P a segment is lost; TCP would resend it after a
timeout, and everything behind it waits: the link stalls for stall-ms. At
most 64 KiB wait in the proxy per direction (a router's queue), so a sender
feels the rate through its own socket, as on a real link.

The first K connections (default: none) are reset on both sides once they
have carried (both directions, as delivered) an offset drawn uniformly from
[min-cut, max-cut]. Bytes delivered are counted per direction ("up": from
the client, "down": to it) and written, with the connections seen and cut,
as JSON to FILE every 0.2 s. Prints one line per connection on stderr.
Runs until killed.
"""
import argparse
import collections
import json
import os
import random
import socket
import sys
import threading
import time

from faultproxy import reset

SEGMENT = 1448
QUEUE_MAX = 64 << 10


class Stats:
    def __init__(self, path):
        self.path, self.lock = path, threading.Lock()
        self.data = {"connections": 0, "cuts": 0, "up": 0, "down": 0}

    def add(self, key, n):
        with self.lock:
            self.data[key] += n

    def dump(self):
        if self.path is None:
            return
        with self.lock:
            text = json.dumps(self.data)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.path)


class Conn:
    def __init__(self, n, client, server, cut, a, rng, stats):
        self.n, self.client, self.server, self.cut = n, client, server, cut
        self.a, self.rng, self.stats = a, rng, stats
        self.carried = 0
        self.lock = threading.Lock()
        self.done = False

    def close(self, why):
        with self.lock:
            if self.done:
                return
            self.done = True
        if why:
            print("shapeproxy: connection %d %s" % (self.n, why), file=sys.stderr, flush=True)
        reset(self.client)
        reset(self.server)

    def start(self):
        for src, dst, key in ((self.client, self.server, "up"), (self.server, self.client, "down")):
            Link(self, src, dst, key).start()


class Link:
    """One direction of a connection: a reader that puts segments on the link, a writer that
    delivers them when they arrive."""

    def __init__(self, conn, src, dst, key):
        self.c, self.src, self.dst, self.key = conn, src, dst, key
        self.q = collections.deque()
        self.queued = 0
        self.cv = threading.Condition()
        self.free_at = 0.0  # when the link has sent everything put on it so far

    def start(self):
        threading.Thread(target=self.read, daemon=True).start()
        threading.Thread(target=self.write, daemon=True).start()

    def read(self):
        a = self.c.a
        try:
            while not self.c.done:
                data = self.src.recv(SEGMENT)
                if not data:
                    break
                now = time.monotonic()
                self.free_at = max(self.free_at, now) + len(data) * 8 / a.rate
                with self.c.lock:
                    lost = self.c.rng.random() < a.loss
                if lost:
                    self.free_at += a.stall_ms / 1000
                with self.cv:
                    while self.queued >= QUEUE_MAX and not self.c.done:
                        self.cv.wait(0.5)
                    self.q.append((self.free_at + a.delay_ms / 1000, data))
                    self.queued += len(data)
                    self.cv.notify_all()
        except OSError:
            pass
        with self.cv:
            self.q.append((None, None))
            self.cv.notify_all()

    def write(self):
        c = self.c
        try:
            while not c.done:
                with self.cv:
                    while not self.q and not c.done:
                        self.cv.wait(0.5)
                    if c.done:
                        return
                    at, data = self.q.popleft()
                    if data is not None:
                        self.queued -= len(data)
                    self.cv.notify_all()
                if data is None:
                    c.close("ended")
                    return
                wait = at - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                with c.lock:
                    if c.done:
                        return
                    cut = c.cut is not None and c.carried + len(data) >= c.cut
                    if cut:
                        data = data[: c.cut - c.carried]
                    c.carried += len(data)
                self.dst.sendall(data)
                c.stats.add(self.key, len(data))
                if cut:
                    c.stats.add("cuts", 1)
                    c.close("cut after %d bytes" % c.cut)
                    return
        except OSError:
            pass
        c.close("ended")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("target")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--rate", type=float, default=64000, help="bits per second, each way")
    ap.add_argument("--delay-ms", type=float, default=250, help="one way")
    ap.add_argument("--loss", type=float, default=0.0, help="probability per segment")
    ap.add_argument("--stall-ms", type=float, default=1000, help="what a lost segment costs")
    ap.add_argument("--cuts", type=int, default=0)
    ap.add_argument("--min-cut", type=int, default=1)
    ap.add_argument("--max-cut", type=int, default=200000)
    ap.add_argument("--stats")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    stats = Stats(a.stats)
    host, port = a.target.rsplit(":", 1)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", a.port))
    lsock.listen(16)

    def dump_forever():
        while True:
            stats.dump()
            time.sleep(0.2)

    stats.dump()
    threading.Thread(target=dump_forever, daemon=True).start()
    print("shapeproxy: listening on %d" % a.port, file=sys.stderr, flush=True)
    n = 0
    while True:
        client, _ = lsock.accept()
        n += 1
        stats.add("connections", 1)
        try:
            server = socket.create_connection((host, int(port)))
        except OSError:
            reset(client)
            continue
        cut = rng.randint(a.min_cut, a.max_cut) if n <= a.cuts else None
        print("shapeproxy: connection %d%s" % (n, "" if cut is None else ", cut at %d" % cut),
              file=sys.stderr, flush=True)
        Conn(n, client, server, cut, a, random.Random(rng.random()), stats).start()


if __name__ == "__main__":
    main()
