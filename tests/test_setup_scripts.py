"""The README's commands on a Debian or Ubuntu machine whose ``python3`` is the system's.

Such a Python is "externally managed" (PEP 668): ``pip install`` and ``pip install --user``
are refused. ``scripts/ensure-uv.sh`` must still get uv, without changing that Python. Run
with the machine's own ``/usr/bin/python3`` and a PATH with no uv on it (skipped where the
machine has no externally managed system Python)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = Path("/usr/bin/python3")
SYSTEM_PATH = "/usr/bin:/bin"
BASH = shutil.which("bash") or "/bin/bash"
#: A Debian Python without python3-venv: ``python3 -m venv`` fails as it does there.
NO_VENV = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  echo "The virtual environment was not created successfully because ensurepip is not available." >&2
  exit 1
fi
exec /usr/bin/python3 "$@"
"""


def _env(path: str, home: Path) -> dict[str, str]:
    """The machine's environment (its proxies and certificates reach PyPI) with only ``path``
    to find programs and a fresh home, and nothing pointing at this checkout's environment."""
    ours = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT", "CONDA_PREFIX")
    kept = {k: v for k, v in os.environ.items() if k not in ours}
    return {**kept, "PATH": path, "HOME": str(home)}


def _externally_managed() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    stdlib = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return (Path(stdlib) / "EXTERNALLY-MANAGED").exists()


def _get_uv(checkout: Path, path: str, home: Path) -> subprocess.CompletedProcess[str]:
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "ensure-uv.sh", checkout / "scripts")
    return subprocess.run(
        [BASH, "-c", 'source scripts/ensure-uv.sh && "${UV[@]}" --version'],
        cwd=checkout,
        env=_env(path, home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.skipif(not _externally_managed(), reason="no externally managed /usr/bin/python3")
def test_uv_is_installed_beside_an_externally_managed_python(tmp_path: Path) -> None:
    env = _env(SYSTEM_PATH, tmp_path / "home")
    refused = subprocess.run(
        [SYSTEM_PYTHON, "-m", "pip", "install", "--user", "--dry-run", "uv"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stderr
    assert shutil.which("uv", path=SYSTEM_PATH) is None

    checkout = tmp_path / "checkout"
    run = _get_uv(checkout, SYSTEM_PATH, tmp_path / "home")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("uv "), run.stdout
    assert (checkout / ".tools" / "uv-venv" / "bin" / "uv").exists()
    untouched = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import uv"], env=env, capture_output=True, check=False
    )
    assert untouched.returncode != 0, "the system's Python was left alone"

    again = subprocess.run(
        [BASH, "-c", 'source scripts/ensure-uv.sh && echo "${UV[0]}"'],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert again.stdout.strip() == str(checkout / ".tools" / "uv-venv" / "bin" / "uv")
    assert "installing" not in again.stderr, "the second run reuses it"


@pytest.mark.skipif(not _externally_managed(), reason="no externally managed /usr/bin/python3")
def test_without_venv_support_uv_goes_into_a_directory_of_its_own(tmp_path: Path) -> None:
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "python3").write_text(NO_VENV)
    (shims / "python3").chmod(0o755)
    checkout = tmp_path / "checkout"
    run = _get_uv(checkout, f"{shims}:{SYSTEM_PATH}", tmp_path / "home")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("uv "), run.stdout
    assert (checkout / ".tools" / "uv-venv" / "lib" / "bin" / "uv").exists()


@pytest.mark.skipif(not _externally_managed(), reason="no externally managed /usr/bin/python3")
def test_with_python_alone_node_comes_from_pypi_through_uv(tmp_path: Path) -> None:
    """No Node.js and no uv on PATH, only the system's Python and a shell: the console's
    toolchain is installed under .tools/ (uv makes its venv, so python3-venv is not needed)."""
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("sh", "bash", "dirname", "mkdir", "ln", "rm", "env", "uname"):
        found = shutil.which(tool, path=SYSTEM_PATH)
        assert found, tool
        (bare / tool).symlink_to(found)
    (bare / "python3").write_text(NO_VENV)
    (bare / "python3").chmod(0o755)
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    for script in ("ensure-uv.sh", "ensure-node.sh"):
        shutil.copy(ROOT / "scripts" / script, checkout / "scripts")
    run = subprocess.run(
        [
            BASH,
            "-c",
            "source scripts/ensure-uv.sh && source scripts/ensure-node.sh && node --version",
        ],
        cwd=checkout,
        env=_env(str(bare), tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("v22."), run.stdout
    assert (checkout / ".tools" / "node-bin" / "npm").exists()
