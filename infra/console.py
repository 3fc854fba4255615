"""The operator console's build output: built when stale, listed for upload.

The program builds what it deploys (as it builds the Lambda packages): ``pulumi up`` and the
offline plan run ``npm run build`` in ``frontend/`` when a source is newer than the last
build, so a deployment can never serve a console older than its code. The build is the same
for every stack; ``config.json`` (API URL, user pool) is written per deployment beside it.
"""

from __future__ import annotations

import mimetypes
import shutil
import subprocess  # nosec B404
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from infra.turns import taking_turns

if TYPE_CHECKING:
    from collections.abc import Callable

FRONTEND = Path(__file__).resolve().parents[1] / "frontend"
#: Names the console fetches beside index.html; written per deployment, never built.
CONFIG_FILE = "config.json"
#: Hashed file names may be cached for a year; anything else is revalidated every time.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
#: Beside the sources, taken while the console builds (ignored by git).
BUILD_LOCK = ".build.lock"


class ConsoleBuildError(RuntimeError):
    """Raised when the console cannot be built (no npm, or the build failed)."""


@dataclass(frozen=True)
class ConsoleFile:
    key: str
    path: Path
    content_type: str
    cache_control: str


def _sources(frontend: Path) -> list[Path]:
    files = [p for p in (frontend / "src").rglob("*") if p.is_file()]
    files += [frontend / name for name in ("index.html", "package-lock.json", "vite.config.ts")]
    return [p for p in files if p.exists()]


def build_console(
    frontend: Path = FRONTEND, say: Callable[[str], None] = lambda _line: None
) -> Path:
    """``frontend/dist``, built first when missing or older than a source file.

    Processes that need the console at once (two test workers, a plan beside a sandbox)
    take turns on a lock file: the first builds, the others find the build fresh and use
    it, instead of building into the same directory together."""
    dist = frontend / "dist"
    if _fresh(frontend, dist):
        return dist
    with taking_turns(frontend / BUILD_LOCK):
        if not _fresh(frontend, dist):
            _build(frontend, dist, say)
    return dist


def _fresh(frontend: Path, dist: Path) -> bool:
    built = dist / "index.html"
    newest = max(p.stat().st_mtime for p in _sources(frontend))
    return built.exists() and built.stat().st_mtime >= newest


def _build(frontend: Path, dist: Path, say: Callable[[str], None]) -> None:
    npm = shutil.which("npm")
    if npm is None:
        msg = f"building the console needs Node.js and npm (frontend: {frontend})"
        raise ConsoleBuildError(msg)
    steps = []
    if not (frontend / "node_modules" / ".package-lock.json").exists():
        steps.append(
            ("installing the console's packages (npm ci)", ["ci", "--no-audit", "--no-fund"])
        )
    steps.append(("building the console (vite build)", ["run", "build", "--silent"]))
    for label, arguments in steps:
        say(f"{label}...")
        # npm found on PATH; fixed arguments.
        result = subprocess.run(  # noqa: S603  # nosec B603
            [npm, *arguments], cwd=frontend, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            msg = f"{label} failed:\n{(result.stdout + result.stderr)[-4000:]}"
            raise ConsoleBuildError(msg)
    (dist / "index.html").touch()


def console_files(dist: Path) -> list[ConsoleFile]:
    """Every file of the build, with the headers CloudFront should serve it with."""
    files = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        key = path.relative_to(dist).as_posix()
        if key == CONFIG_FILE:
            continue
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        cache = IMMUTABLE if key.startswith("assets/") else REVALIDATE
        files.append(ConsoleFile(key, path, content_type, cache))
    return files
