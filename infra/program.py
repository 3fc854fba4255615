"""The Pulumi program, as a function: read settings, build the Orchestrator, export outputs.

Building from a function (not at import time) is what lets the offline evaluator and the
tests run the program once per stack in one process.
"""

from __future__ import annotations

import pulumi

from infra import settings as stack_settings
from infra.components.orchestrator import Orchestrator, OrchestratorArgs
from infra.console import build_console


def build() -> Orchestrator:
    settings = stack_settings.from_pulumi()  # raises before any resource is declared
    console_dir = build_console(say=pulumi.log.info)  # so does a console that cannot build
    orchestrator = Orchestrator("orchestrator", OrchestratorArgs(settings, console_dir))
    for name, value in orchestrator.outputs.items():
        pulumi.export(name, value)
    return orchestrator
