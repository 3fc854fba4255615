"""Repository-wide gates: lint and format, and no real account ids or e-mail addresses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff_passes(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_bandit_finds_nothing_in_shipped_code() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bandit",
            "-q",
            "-c",
            "pyproject.toml",
            "-r",
            "infra",
            "lambdas",
            "drsctl",
            "policy",
            "bootstrap",
            "__main__.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _tracked_files() -> list[Path]:
    git = ["git", "ls-files"]  # git from PATH, as a developer runs it
    listed = subprocess.run(git, cwd=ROOT, capture_output=True, text=True, check=False)
    return [ROOT / n for n in listed.stdout.split() if (ROOT / n).is_file()]


def test_only_placeholder_emails_and_accounts() -> None:
    """Config and docs use example.com and AWS's documentation accounts (123456789012, and
    111122223333 and 444455556666 where a second and third account are needed)."""
    offenders = []
    files = _tracked_files()
    assert len(files) > 20, "git ls-files listed the repository"
    for path in files:
        if (
            path.suffix not in {".py", ".yaml", ".yml", ".md", ".toml", ".json"}
            or "fixtures" in path.parts
        ):
            continue
        text = path.read_text(errors="ignore")
        for email in re.findall(r"[\w.+-]+@([\w-]+\.[\w.-]+)", text):
            if not email.endswith(("example.com", "example.org")):
                offenders.append(f"{path.name}: e-mail domain {email}")
        for account in re.findall(r"arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}):", text):
            if account not in {"123456789012", "111122223333", "444455556666"}:
                offenders.append(f"{path.name}: account {account}")
    assert offenders == []


def test_the_sandbox_does_not_import_the_drill_comparison() -> None:
    """The comparison runs against a sandbox, never the other way round: shared pieces (the
    API client) live in drsctl/ itself."""
    import ast

    offenders = []
    for path in sorted(Path("drsctl/sandbox").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [f"{path}: {n}" for n in names if n.startswith("drsctl.drill")]
    assert offenders == []


def test_the_scheduler_groups_exactly_the_modules_marked_sandbox() -> None:
    """``tests/conftest.py``'s scheduler keeps each sandbox module on one worker, reading
    which modules they are from their source; pytest's own marker selection must agree."""
    from tests.conftest import sandbox_modules

    listed = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "sandbox"),
            # Without xdist too: its scheduler hook in tests/conftest.py is optional.
            *("-p", "no:xdist"),
            # Nothing runs, so no assertion needs rewriting (half the collection's CPU).
            "--assert=plain",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.returncode == 0, listed.stdout[-2000:] + listed.stderr[-2000:]
    marked = {line.split("::", 1)[0] for line in listed.stdout.splitlines() if "::" in line}
    assert sandbox_modules(ROOT) == marked
