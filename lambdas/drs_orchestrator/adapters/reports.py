"""Execution reports kept in the deployment's own bucket, under ``reports/``.

Each finished execution has two objects: ``reports/<execution>.json`` (the document of
``domain/report.py``) and ``reports/<execution>.html`` (its printable page). The JSON is
written first and the HTML last, so a stored HTML page means both are there: whoever asks
whether a report is stored asks about the HTML. Writing again replaces both with the same
or a newer report (the bucket is versioned: the earlier ones stay as noncurrent versions
until the bucket's lifecycle expires them), so a write whose answer was lost is simply
repeated.

Downloads go straight to S3 through presigned GET URLs signed by the API's role, valid for
minutes, so a report of any size never passes through Lambda or API Gateway.
"""

from __future__ import annotations

import json
import os
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code
from drs_orchestrator.errors import ReportStoreError

#: Where reports are kept in the deployment bucket (the IAM grants name it too).
REPORTS_PREFIX = "reports/"
#: How long a download link works.
LINK_SECONDS = 300
#: S3's answers to a HeadObject of a key that is not there (HeadObject has no body: the
#: code is the HTTP status).
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


def presigning() -> Config:
    """Links signed with Signature Version 4 (what S3 requires of objects encrypted with
    KMS, as the deployment bucket's are), for the bucket's regional endpoint (the global
    one answers a bucket of another region with a redirect). Where the SDK is pointed at
    another endpoint (``AWS_ENDPOINT_URL``: the sandbox), botocore's own addressing stands:
    the bucket in the path."""
    custom = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return Config(signature_version="s3v4", s3={} if custom else {"addressing_style": "virtual"})


_CONTENT_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}


def report_key(execution_id: str, kind: str) -> str:
    """The key of an execution's report of ``kind`` (``json`` or ``html``)."""
    return f"{REPORTS_PREFIX}{execution_id}.{kind}"


class ReportStore:
    """Writes, finds and links execution reports in the deployment bucket."""

    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client or make_client("s3", config=presigning())

    def put(self, execution_id: str, document: dict[str, Any], html: str) -> None:
        """Store both forms of a report: the JSON first, the HTML (the one asked about) last."""
        bodies = (
            ("json", (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()),
            ("html", html.encode()),
        )
        for kind, body in bodies:
            try:
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=report_key(execution_id, kind),
                    Body=body,
                    ContentType=_CONTENT_TYPES[kind],
                )
            except (ClientError, BotoCoreError) as exc:
                raise ReportStoreError("PutObject", error_code(exc)) from exc

    def stored_at(self, execution_id: str) -> str | None:
        """When the execution's report was last stored (ISO 8601, UTC), or None when it
        has not been yet."""
        try:
            head = self._client.head_object(
                Bucket=self._bucket, Key=report_key(execution_id, "html")
            )
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) in _MISSING:
                return None
            raise ReportStoreError("HeadObject", error_code(exc)) from exc
        return head["LastModified"].strftime("%Y-%m-%dT%H:%M:%SZ")

    def links(self, execution_id: str, seconds: int = LINK_SECONDS) -> dict[str, str]:
        """Presigned GET URLs of both forms (signed locally: no call to S3). The HTML opens
        in the browser; the JSON downloads as ``<execution>.json``."""
        links = {}
        for kind in ("html", "json"):
            params = {"Bucket": self._bucket, "Key": report_key(execution_id, kind)}
            if kind == "json":
                params["ResponseContentDisposition"] = f'attachment; filename="{execution_id}.json"'
            links[kind] = self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=seconds
            )
        return links
