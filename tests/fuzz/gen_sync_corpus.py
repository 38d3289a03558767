#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_sync (tests/fuzz/corpus/sync/).

The messages are encoded here by hand, independently of proto/sync.c, in
the shortest msgpack forms PROTOCOL.md ("Sync messages") requires. The
seeds named bad-* break one rule each, so the fuzzer starts next to the
refusals too. Run it from anywhere; it overwrites the seeds.
"""
import os
import struct


def uint(v):
    if v < 0x80:
        return bytes([v])
    if v <= 0xFF:
        return b"\xcc" + bytes([v])
    if v <= 0xFFFF:
        return b"\xcd" + struct.pack(">H", v)
    if v <= 0xFFFFFFFF:
        return b"\xce" + struct.pack(">I", v)
    return b"\xcf" + struct.pack(">Q", v)


def nint(v):
    assert v < 0
    if v >= -32:
        return struct.pack(">b", v)
    if v >= -128:
        return b"\xd0" + struct.pack(">b", v)
    if v >= -32768:
        return b"\xd1" + struct.pack(">h", v)
    return b"\xd2" + struct.pack(">i", v)


def array(items):
    n = len(items)
    head = bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)
    return head + b"".join(items)


def string(s):
    b = s.encode()
    head = bytes([0xA0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])
    return head + b


def binary(b):
    if len(b) <= 0xFF:
        return b"\xc4" + bytes([len(b)]) + b
    return b"\xc5" + struct.pack(">H", len(b)) + b


NODE = bytes(range(32))


def origin(v):
    return bytes([v]) * 32


def hello(proto, scopes, origins, streams):
    frontier = array([
        array([string(s) for s in scopes]),
        array([binary(o) for o in origins]),
        array([array([uint(s), uint(o), uint(e), uint(q), binary(h)])
               for (s, o, e, q, h) in streams]),
    ])
    return array([uint(0), binary(NODE), uint(proto), uint(1), uint(1700000000123), frontier])


SEEDS = {
    "hello-empty": hello(1, [], [], []),
    "hello-frontier": hello(
        1, ["cases", "clients", "clients-archive"], [origin(1), origin(7), origin(200)],
        [(0, 0, 1, 5, b"\x11" * 8), (0, 2, 1, 300, b"\x22" * 8),
         (1, 1, 2, 70000, b"\x33" * 8), (1, 2, 4294967295, 2**40, b"\x44" * 8),
         (2, 0, 0, 0, b"\x55" * 8)]),
    "hello-version2": array([uint(0), binary(NODE), uint(2), b"\xc0"]),
    "commits": array([uint(1), uint(65537),
                      array([binary(b"\x93" + b"c" * 40), binary(b"x"), binary(bytes(300))])]),
    "ack": array([uint(2), uint(128)]),
    "done-none": array([uint(3), uint(0)]),
    "notice": array([uint(4), nint(-33), string("scope 'cases' is not yours — ask the admin")]),
    "bad-dup-stream": hello(1, ["a"], [origin(1)],
                            [(0, 0, 1, 1, b"\x00" * 8), (0, 0, 1, 2, b"\x01" * 8)]),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "sync")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
