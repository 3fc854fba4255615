"""The console is rebuilt exactly when a source changed, and says why it cannot build."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import pytest

from infra import console
from infra.console import ConsoleBuildError, build_console, console_files

if TYPE_CHECKING:
    from pathlib import Path


def frontend(tmp_path: Path, built: bool) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.tsx").write_text("export {}")
    (tmp_path / "index.html").write_text("<html></html>")
    if built:
        (tmp_path / "dist" / "assets").mkdir(parents=True)
        (tmp_path / "dist" / "index.html").write_text("<html>built</html>")
        (tmp_path / "dist" / "assets" / "index-abc.js").write_text("1")
        (tmp_path / "dist" / "config.json").write_text("{}")
        later = (tmp_path / "src" / "main.tsx").stat().st_mtime + 10
        os.utime(tmp_path / "dist" / "index.html", (later, later))
    return tmp_path


def test_a_fresh_build_is_used_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console.shutil, "which", lambda _n: pytest.fail("npm must not run"))
    dist = build_console(frontend(tmp_path, built=True))
    files = {f.key: f for f in console_files(dist)}
    assert set(files) == {"index.html", "assets/index-abc.js"}  # config.json is per deployment
    assert files["assets/index-abc.js"].cache_control == console.IMMUTABLE
    assert files["index.html"].cache_control == console.REVALIDATE


def test_a_stale_build_without_npm_fails_naming_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = frontend(tmp_path, built=True)
    later = (root / "dist" / "index.html").stat().st_mtime + 10
    os.utime(root / "src" / "main.tsx", (later, later))
    monkeypatch.setattr(console.shutil, "which", lambda _n: None)
    with pytest.raises(ConsoleBuildError, match="building the console needs Node.js and npm"):
        build_console(root)


def test_a_failing_build_reports_npms_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = frontend(tmp_path, built=False)
    (root / "node_modules").mkdir()
    (root / "node_modules" / ".package-lock.json").write_text("{}")
    fake_npm = tmp_path / "npm"
    fake_npm.write_text("#!/bin/sh\necho 'src/App.tsx(3,1): error TS2304' >&2\nexit 2\n")
    fake_npm.chmod(0o755)
    monkeypatch.setattr(console.shutil, "which", lambda _n: str(fake_npm))
    with pytest.raises(
        ConsoleBuildError, match=r"(?s)building the console \(vite build\) failed.*TS2304"
    ):
        build_console(root)


def test_builds_asked_for_at_once_build_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two test workers (or a plan beside a sandbox) needing a stale console at once: the
    first builds, the second waits and finds the build fresh."""
    root = frontend(tmp_path, built=False)
    (root / "node_modules").mkdir()
    (root / "node_modules" / ".package-lock.json").write_text("{}")
    log = tmp_path / "npm.log"
    fake_npm = tmp_path / "npm"
    fake_npm.write_text(
        f'#!/bin/sh\necho "$@" >> {log}\nsleep 1\nmkdir -p dist\necho built > dist/index.html\n'
    )
    fake_npm.chmod(0o755)
    monkeypatch.setattr(console.shutil, "which", lambda _n: str(fake_npm))
    results: list[Path] = []
    builders = [
        threading.Thread(target=lambda: results.append(build_console(root))) for _ in range(2)
    ]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join()
    assert results == [root / "dist"] * 2
    assert log.read_text().splitlines() == ["run build --silent"]
