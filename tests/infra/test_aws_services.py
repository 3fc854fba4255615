"""The AWS services a package's code calls, read from the code: what decides which botocore
models a Lambda package carries (the API once shipped without SSM's and answered 500)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from infra.aws_services import UnreadableServiceError, service_calls, services_used
from infra.functions import CATALOGUE
from infra.packaging import _source_files

if TYPE_CHECKING:
    from pathlib import Path


def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    sources = {}
    for arcname, text in files.items():
        path = tmp_path / arcname
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        sources[arcname] = path
    return sources


def test_every_function_carries_the_services_its_code_calls() -> None:
    """The real packages: each names, at least, the services its own handler's work needs;
    the API's readiness needs SSM (actions' documents) and its outbox SNS."""
    used = {
        name: services_used(dict(_source_files(spec)), spec.handler.rpartition(".")[0])
        for name, spec in CATALOGUE.items()
    }
    assert {"ssm", "sns", "ec2", "iam", "lambda", "s3"} <= set(used["api"])
    assert {"drs", "dynamodb", "s3", "sns", "stepfunctions", "sts"} <= set(used["execution-finder"])
    assert {"drs", "dynamodb", "ssm", "stepfunctions", "sns", "sts"} <= set(used["wave-runner"])
    assert {"drs", "ec2", "iam", "ssm", "sns"} <= set(used["readiness"])
    assert "lambda" not in used["wave-runner"], "only what the handler's imports reach"


def test_imports_are_followed_wherever_they_are(tmp_path: Path) -> None:
    sources = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/handler.py": (
                "from app import adapters\n"
                "from .services import work\n"
                "def handler(event, context):\n"
                "    from app.late import thing  # imported only when it runs\n"
                "    return thing\n"
            ),
            "app/adapters/__init__.py": "from . import queue\n",
            "app/adapters/queue.py": "import boto3\nQ = boto3.client('sqs')\n",
            "app/services.py": "from app.clients import make\ndef work():\n    return make('kms')\n",
            "app/clients.py": (
                "import boto3\n"
                "def make(service, **kwargs):\n"
                "    return boto3.client(service, **kwargs)\n"
            ),
            "app/late.py": "import botocore.session\nthing = botocore.session.get_session()"
            ".get_service_model('ssm')\n",
            "app/unused.py": "import boto3\nboto3.client('lambda')\n",
        },
    )
    assert services_used(sources, "app.handler") == ("kms", "sqs", "ssm")
    calls = {(c.module, c.service) for c in service_calls(sources, "app.handler")}
    assert ("app.services", "kms") in calls


def test_a_service_the_code_does_not_name_is_refused(tmp_path: Path) -> None:
    sources = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/handler.py": (
                "import os, boto3\n"
                "def handler(event, context):\n"
                "    return boto3.client(os.environ['SERVICE'])\n"
            ),
        },
    )
    with pytest.raises(UnreadableServiceError) as caught:
        services_used(sources, "app.handler")
    assert "app.handler line 3: client(...) makes a client for a service the code does not" in (
        str(caught.value)
    )


def test_a_service_botocore_does_not_know_is_refused(tmp_path: Path) -> None:
    sources = _tree(
        tmp_path,
        {"app/__init__.py": "", "app/handler.py": "import boto3\nC = boto3.client('ssmm')\n"},
    )
    with pytest.raises(UnreadableServiceError, match="app.handler line 2: botocore has no service"):
        services_used(sources, "app.handler")


def test_the_same_code_is_read_once_and_changed_code_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read by content: a process evaluating many programs parses each module once, and a
    file rewritten in place (same path, same size, within the same clock tick) is read
    anew."""
    import ast

    from infra import aws_services

    parsed: list[str] = []
    parse = ast.parse

    def counted(source: str, filename: str = "<unknown>", *args: object, **kwargs: object) -> Any:
        parsed.append(filename)
        return parse(source, filename, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(aws_services.ast, "parse", counted)
    sources = _tree(
        tmp_path,
        {
            "once/__init__.py": "",
            "once/handler.py": "import boto3\nC = boto3.client('sqs')\n",
        },
    )
    assert services_used(sources, "once.handler") == ("sqs",)
    assert services_used(dict(sources), "once.handler") == ("sqs",)
    assert sorted(parsed) == ["once/__init__.py", "once/handler.py"]
    sources["once/handler.py"].write_text("import boto3\nC = boto3.client('sns')\n")
    assert services_used(sources, "once.handler") == ("sns",)
    assert sorted(parsed) == ["once/__init__.py", "once/handler.py", "once/handler.py"]
