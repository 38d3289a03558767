#!/usr/bin/env python3
"""Writes N realistic concern records as JSON lines (about 300 bytes of fields
each, a 200-character description), for imports in tests and benchmarks."""
import json
import random
import sys

n = int(sys.argv[1])
scope = sys.argv[2] if len(sys.argv) > 2 else None
rnd = random.Random(1)
cats = ["absence", "conflict", "violence", "theft", "vandalism", "drugs", "alcohol", "online",
        "wellbeing", "family"]
words = ("seen with older youths near the station after school, absent from lessons, "
         "parents informed, teacher worried about wellbeing and new contacts online").split()
out = sys.stdout
for i in range(n):
    desc = " ".join(rnd.choice(words) for _ in range(40))[:200]
    rec = {"type": "concern", "fields": {
        "group_desc": "group %d at the square" % (i % 97),
        "source": rnd.choice(["school", "police", "social", "club"]),
        "date": "2026-%02d-%02d" % (rnd.randint(1, 12), rnd.randint(1, 28)),
        "categories": sorted(rnd.sample(cats, 2)),
        "level": rnd.randint(1, 4),
        "status": "new",
        "legal_basis": "s115",
        "consent": "not_asked",
        "description": desc}}
    if scope:
        rec["scope"] = scope
    out.write(json.dumps(rec, separators=(",", ":")) + "\n")
