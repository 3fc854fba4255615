"""The recovery state machine's ASL, kept as JSON and filled in as a document, not a string."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ASL_PATH = Path(__file__).with_name("recovery.asl.json")
WAVE_RUNNER_PLACEHOLDER = "${WaveRunnerFunctionArn}"


def _fill(node: Any, function_arn: str) -> Any:
    if isinstance(node, dict):
        return {k: _fill(v, function_arn) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, function_arn) for v in node]
    return function_arn if node == WAVE_RUNNER_PLACEHOLDER else node


def definition(wave_runner_arn: str) -> str:
    """The ASL with every task pointed at ``wave_runner_arn``."""
    document = json.loads(ASL_PATH.read_text())
    filled = _fill(document, wave_runner_arn)
    if WAVE_RUNNER_PLACEHOLDER in json.dumps(filled):
        msg = "a wave runner placeholder was left in the state machine definition"
        raise ValueError(msg)
    return json.dumps(filled, indent=2, sort_keys=False)
