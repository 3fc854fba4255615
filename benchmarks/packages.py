"""Print size, entry count, build time and proof time of every function's package."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from infra.functions import CATALOGUE
from infra.packaging import build_package, prove_handler


def main() -> None:
    print(f"{'function':<20}{'zip bytes':>12}{'entries':>9}{'build s':>9}{'proof s':>9}  sha256")
    with tempfile.TemporaryDirectory() as out:
        for name, spec in CATALOGUE.items():
            started = time.perf_counter()
            package = build_package(spec, Path(out))
            built = time.perf_counter() - started
            prove_handler(package)
            proved = time.perf_counter() - started - built
            print(
                f"{name:<20}{package.size:>12,}{package.entries:>9}{built:>9.2f}{proved:>9.2f}"
                f"  {package.sha256[:16]}"
            )


if __name__ == "__main__":
    main()
