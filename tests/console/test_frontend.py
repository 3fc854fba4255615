"""The console's own checks, run from the suite: type check, Vitest component tests, build."""

from __future__ import annotations

import json
import subprocess

from infra.console import build_console
from tests.console.conftest import FRONTEND, ROOT, npm


def test_console_type_checks() -> None:
    result = subprocess.run(
        [npm(), "run", "--silent", "typecheck"], cwd=FRONTEND, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_consoles_api_types_are_generated_from_the_current_document() -> None:
    # src/lib/types.ts takes every shape from src/lib/api-schema.ts, which `npm run types`
    # generates from the OpenAPI document: a document changed without regenerating fails.
    document = ROOT / "lambdas" / "drs_orchestrator" / "api" / "openapi.json"
    result = subprocess.run(
        [npm(), "exec", "--silent", "--", "openapi-typescript", str(document)],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    committed = (FRONTEND / "src" / "lib" / "api-schema.ts").read_text()
    assert result.stdout == committed, "run `npm run types` in frontend/ and commit the result"
    types = (FRONTEND / "src" / "lib" / "types.ts").read_text()
    assert "export interface" not in types.split("export interface Page<T>", 1)[1], (
        "an API shape is kept by hand in types.ts"
    )


def test_vitest_component_tests_pass(tmp_path) -> None:
    report = tmp_path / "vitest.json"
    result = subprocess.run(
        [npm(), "exec", "--", "vitest", "run", "--reporter=json", f"--outputFile={report}"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
    )
    assert report.exists(), result.stdout + result.stderr
    outcome = json.loads(report.read_text())
    failed = [
        f"{t['fullName']}: {t['failureMessages']}"
        for suite in outcome["testResults"]
        for t in suite["assertionResults"]
        if t["status"] != "passed"
    ]
    assert not failed, "\n".join(failed)
    names = {t["fullName"] for s in outcome["testResults"] for t in s["assertionResults"]}
    # The two components the issue names are covered.
    assert any(n.startswith("WaveEditor ") for n in names)
    assert any(n.startswith("ExecutionDetail ") for n in names)
    assert result.returncode == 0


def test_console_builds_to_static_files() -> None:
    # The run's one build (`npm run build`: `tsc --noEmit && vite build`, done by the first
    # test or sandbox that needs it, again only when a source changed), as the program
    # deploys it and the sandboxes serve it.
    dist = build_console()
    index = (dist / "index.html").read_text()
    # Relative asset paths: the same build works under any CloudFront or sandbox origin.
    assert 'src="./assets/' in index
    assert any((dist / "assets").glob("*.js")), "the bundle"
    assert not (dist / "config.json").exists(), "config.json is per deployment"
