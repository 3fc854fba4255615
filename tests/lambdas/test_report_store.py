"""Where reports are kept: keys, write order, S3's errors mapped by code, and the links."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from drs_orchestrator.adapters.reports import ReportStore, report_key
from drs_orchestrator.errors import UNAVAILABLE, ReportStoreError

from infra import naming

BUCKET = "drs-x-bucket"


@pytest.fixture
def s3() -> Any:
    return boto3.client(
        "s3", region_name="eu-west-2", aws_access_key_id="a", aws_secret_access_key="b"
    )


def presigning_store(monkeypatch: pytest.MonkeyPatch) -> ReportStore:
    """The store as the API makes it (its client configured as ``presigning()`` says, from
    the environment as it is now, credentials included), in eu-west-2."""
    from drs_orchestrator.adapters.clients import client
    from drs_orchestrator.adapters.reports import presigning

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")

    return ReportStore(BUCKET, client=client("s3", config=presigning(), region_name="eu-west-2"))


def test_the_runtime_and_the_infrastructure_agree_on_where_reports_are() -> None:
    from drs_orchestrator.adapters import reports

    assert reports.REPORTS_PREFIX == naming.REPORTS_PREFIX
    assert report_key("ex-1", "html") == "reports/ex-1.html"


def test_the_json_is_written_before_the_html_the_api_asks_about(s3: Any) -> None:
    with Stubber(s3) as stub:
        for kind, content_type in (
            ("json", "application/json"),
            ("html", "text/html; charset=utf-8"),
        ):
            stub.add_response(
                "put_object",
                {},
                {
                    "Bucket": BUCKET,
                    "Key": f"reports/ex-1.{kind}",
                    "Body": (json.dumps({"a": 1}, indent=2, sort_keys=True) + "\n").encode()
                    if kind == "json"
                    else b"<p>page</p>",
                    "ContentType": content_type,
                },
            )
        ReportStore(BUCKET, client=s3).put("ex-1", {"a": 1}, "<p>page</p>")
        stub.assert_no_pending_responses()


def test_a_refused_write_is_an_error_that_names_the_call_and_code(s3: Any) -> None:
    with Stubber(s3) as stub:
        stub.add_client_error("put_object", "SlowDown", http_status_code=503)
        with pytest.raises(ReportStoreError) as caught:
            ReportStore(BUCKET, client=s3).put("ex-1", {}, "")
    assert (caught.value.operation, caught.value.code) == ("PutObject", "SlowDown")
    assert ReportStoreError in UNAVAILABLE, "the API answers 503: try again"


def test_a_report_not_there_is_none_and_any_other_answer_an_error(s3: Any) -> None:
    store = ReportStore(BUCKET, client=s3)
    with Stubber(s3) as stub:
        stub.add_client_error("head_object", "404", http_status_code=404)
        stub.add_client_error("head_object", "403", http_status_code=403)
        stub.add_response(
            "head_object",
            {"LastModified": datetime(2026, 11, 30, 12, 0, 5, tzinfo=UTC)},
            {"Bucket": BUCKET, "Key": "reports/ex-1.html"},
        )
        assert store.stored_at("ex-1") is None
        with pytest.raises(ReportStoreError, match="HeadObject .* failed with 403"):
            store.stored_at("ex-1")
        assert store.stored_at("ex-1") == "2026-11-30T12:00:05Z"


def test_links_are_signed_v4_for_the_regional_endpoint_and_name_the_json_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    links = presigning_store(monkeypatch).links("ex-1", seconds=60)
    assert links["html"].startswith(
        f"https://{BUCKET}.s3.eu-west-2.amazonaws.com/reports/ex-1.html?"
    )
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in links["html"]
    assert "X-Amz-Expires=60" in links["json"]
    assert "response-content-disposition=attachment" in links["json"]
    assert "response-content-disposition" not in links["html"], "the page opens in the browser"


def test_links_name_the_bucket_in_the_path_of_an_endpoint_set_by_hand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sandbox points the SDK at localhost: no bucket host names there."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    link = presigning_store(monkeypatch).links("ex-1")["html"]
    assert link.startswith(f"http://127.0.0.1:4566/{BUCKET}/reports/ex-1.html?X-Amz-Algorithm=")
