#!/usr/bin/env python3
"""A TCP proxy that cuts connections at random byte offsets, for tests.

    faultproxy.py LISTEN_PORT TARGET_HOST:TARGET_PORT --seed N [--cuts K]
                  [--min-cut BYTES] [--max-cut BYTES] [--silent]

Each of the first K connections (default: all) is cut, by a reset on both
sides, once the bytes it has carried in both directions together reach an
offset drawn uniformly from [min-cut, max-cut]; later connections pass
untouched. With --silent a cut connection goes dark instead: what either
side sends is taken (so TCP sees it acknowledged) and dropped, and nothing
is closed, like a middlebox that lost its state. Prints one line per
connection on stderr. Runs until killed.
"""
import argparse
import random
import socket
import struct
import sys
import threading


def reset(sock):
    """Closes with a TCP reset, like a cable pulled mid-transfer. A thread blocked reading the
    socket would keep it open (and the reset unsent) until data came: shutting its reading side
    wakes that thread first."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class Conn:
    def __init__(self, n, client, server, cut, silent):
        self.n, self.client, self.server, self.cut, self.silent = n, client, server, cut, silent
        self.carried = 0
        self.lock = threading.Lock()
        self.done = False

    def pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self.lock:
                    if self.done and self.silent:
                        continue
                    if self.done:
                        return
                    if self.cut is not None and self.carried + len(data) >= self.cut:
                        dst.sendall(data[: self.cut - self.carried])
                        self.carried = self.cut
                        self.done = True
                        print("faultproxy: connection %d %s after %d bytes"
                              % (self.n, "went silent" if self.silent else "cut", self.cut),
                              file=sys.stderr, flush=True)
                        if self.silent:
                            continue
                        reset(self.client)
                        reset(self.server)
                        return
                    self.carried += len(data)
                dst.sendall(data)
        except OSError:
            pass
        with self.lock:
            if not self.done:
                self.done = True
                reset(self.client)
                reset(self.server)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("target")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--cuts", type=int, default=-1)
    ap.add_argument("--min-cut", type=int, default=1)
    ap.add_argument("--max-cut", type=int, default=200000)
    ap.add_argument("--silent", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    host, port = a.target.rsplit(":", 1)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", a.port))
    lsock.listen(16)
    print("faultproxy: listening on %d" % a.port, file=sys.stderr, flush=True)
    n = 0
    while True:
        client, _ = lsock.accept()
        n += 1
        try:
            server = socket.create_connection((host, int(port)))
        except OSError:
            reset(client)
            continue
        cut = rng.randint(a.min_cut, a.max_cut) if a.cuts < 0 or n <= a.cuts else None
        c = Conn(n, client, server, cut, a.silent)
        threading.Thread(target=c.pump, args=(client, server), daemon=True).start()
        threading.Thread(target=c.pump, args=(server, client), daemon=True).start()


if __name__ == "__main__":
    main()
