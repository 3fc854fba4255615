"""Entry point Pulumi runs: the whole program is ``infra.program.build``."""

import sys
from pathlib import Path

# The Lambda runtime package is imported by the program for its environment variable names.
sys.path.insert(0, str(Path(__file__).parent / "lambdas"))

from infra.program import build  # noqa: E402

build()
