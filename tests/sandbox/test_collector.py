"""``drsctl/collector.py``: longer generations, and what a started process holds frozen out
of later collections (each case in a fresh interpreter: the collector is process-wide)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from drsctl.collector import THRESHOLDS
from tests.console.conftest import ROOT

PROBE = """
import gc, json, sys
held = [[i] for i in range(50_000)]  # what starting made
from drsctl.collector import tune_collector
tune_collector(freeze=sys.argv[1] == "freeze")
print(json.dumps({"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


@pytest.mark.parametrize("freeze", [True, False])
def test_the_collector_is_tuned_and_freezes_only_when_asked(freeze: bool) -> None:
    run = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", PROBE, "freeze" if freeze else "no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(run.stdout)
    assert tuple(found["thresholds"]) == THRESHOLDS != (700, 10, 10)
    if freeze:
        assert found["frozen"] > 50_000  # the lists made before, among everything else
    else:
        assert found["frozen"] == 0
