"""Entry point Pulumi runs for the target-account project: ``infra.target.program.build``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.target.program import build  # noqa: E402

build()
