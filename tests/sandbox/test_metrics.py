"""The sandbox reads the metrics its functions print (EMF) back from their logs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from drsctl.sandbox.metrics import EmittedMetrics, emf_metrics

if TYPE_CHECKING:
    from pathlib import Path


def document(name: str, value: float, **dimensions: str) -> str:
    keys = ["deployment", "service", *dimensions]
    return json.dumps(
        {
            "_aws": {
                "Timestamp": 1,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "DRSOrchestrator",
                        "Dimensions": [keys],
                        "Metrics": [{"Name": name, "Unit": "Count"}],
                    }
                ],
            },
            "deployment": "drs-x",
            "service": "wave-runner",
            **dimensions,
            name: [value],
        }
    )


def test_only_emf_lines_are_metrics() -> None:
    assert emf_metrics('{"level": "INFO", "message": "tick"}') == []
    assert emf_metrics("not json") == []
    assert emf_metrics(document("ExecutionsEnded", 1, Status="COMPLETED")) == [
        (
            "ExecutionsEnded",
            {"Status": "COMPLETED", "deployment": "drs-x", "service": "wave-runner"},
            1.0,
        )
    ]


def test_series_are_summed_as_the_logs_grow_and_a_partial_line_waits(tmp_path: Path) -> None:
    log = tmp_path / "drs-x-wave-runner.log"
    log.write_text(
        "\n".join(
            [
                '{"message": "started"}',
                document("WaveStartDelay", 2.5),
                document("WaveStartDelay", 0.5),
            ]
        )
        + "\n"
    )
    emitted = EmittedMetrics([log, tmp_path / "not-yet.log"])
    [delay] = emitted.snapshot()
    assert (delay["metric"], delay["dimensions"]) == ("WaveStartDelay", {"service": "wave-runner"})
    assert (delay["sum"], delay["count"], delay["max"]) == (3.0, 2, 2.5)
    with log.open("a") as more:
        more.write(document("WaveStartDelay", 4.0) + "\n" + document("WaveStartDelay", 9.0)[:20])
    [delay] = emitted.snapshot()
    assert (delay["sum"], delay["count"], delay["max"]) == (7.0, 3, 4.0), "each line once"
