"""The cyclic garbage collector set for a process that holds a large heap for its whole life.

A sandbox holds moto's backends, botocore's models and every module; a test process holds
those and every test module; Schemathesis's process its schema and strategies. With
CPython's thresholds (700, 10, 10) each spent a tenth to a quarter of its CPU collecting,
most of it in full collections walking objects that never die: a fault-matrix case a
quarter, a sandbox running two stacks' drills 5.2 s of 28 s, Schemathesis 2.1 s of 24 s.
Here the generations fill longer before they are walked, and what the process made while
starting can be frozen out of every later collection. Cyclic garbage is still collected,
in larger batches (a process's peak grows by tens of MB).
"""

from __future__ import annotations

import gc

#: The collector's thresholds for such a process (CPython's are 700, 10, 10).
THRESHOLDS = (20_000, 50, 1_000)


def tune_collector(*, freeze: bool) -> None:
    """Longer generations from now on; with ``freeze``, what the process holds now (it has
    started: imported, built, seeded) is collected once and left out of every later
    collection."""
    gc.set_threshold(*THRESHOLDS)
    if freeze:
        gc.collect()
        gc.freeze()
