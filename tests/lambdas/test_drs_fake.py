"""The DRS fake is held to botocore's DRS model, and so are the captures it serves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from drsctl.sandbox.shapes import violations
from tests.fakes.drs import MODEL, FakeDrs

FIXTURES = Path(__file__).parents[1] / "fixtures" / "drs"


def output_shape(operation: str):
    return MODEL.operation_model(operation).output_shape


@pytest.mark.parametrize(
    ("fixture", "operation"),
    [
        ("describe_jobs__drs-tools_wave1_drsjob-556c7b1d99221f996.json", "DescribeJobs"),
        ("describe_jobs__drs-tools_wave2_drsjob-541cee6300c363be5.json", "DescribeJobs"),
        ("describe_jobs__aws-cli-pr10308.json", "DescribeJobs"),
        (
            "describe_job_log_items__drs-tools_wave1_drsjob-556c7b1d99221f996.json",
            "DescribeJobLogItems",
        ),
        (
            "describe_job_log_items__drs-tools_wave2_drsjob-541cee6300c363be5.json",
            "DescribeJobLogItems",
        ),
        ("describe_job_log_items__aws-cli-pr10308.json", "DescribeJobLogItems"),
        ("describe_source_servers__drs-tools_sample-result.json", "DescribeSourceServers"),
    ],
)
def test_real_and_documented_payloads_fit_the_model(fixture: str, operation: str) -> None:
    payload = json.loads((FIXTURES / fixture).read_text())
    assert violations(payload, output_shape(operation), request=False) == []


def test_hand_written_mocks_that_get_the_api_wrong_are_caught() -> None:
    log = json.loads(
        (FIXTURES / "describe_job_log_items__orchestrator_test-poll-wave-status.json").read_text()
    )
    problems = violations(log, output_shape("DescribeJobLogItems"), request=False)
    assert any("eventDateTime: unknown member" in p for p in problems)
    jobs = json.loads(
        (FIXTURES / "describe_jobs__orchestrator_test-query-handler-poll-wave.json").read_text()
    )
    problems = violations(jobs, output_shape("DescribeJobs"), request=False)
    assert any("recoveryInstanceID: null" in p for p in problems)


def test_fake_refuses_to_serve_a_payload_that_breaks_the_model() -> None:
    drs = FakeDrs()
    jobs = json.loads(
        (FIXTURES / "describe_jobs__orchestrator_test-query-handler-poll-wave.json").read_text()
    )
    job = jobs["items"][0]
    job["jobID"] = "drsjob-aaaaaaaaaaaaaaaaa"
    drs.load_job(job, [])
    with pytest.raises(AssertionError, match="breaks the model"):
        drs.client().describe_jobs(filters={"jobIDs": [job["jobID"]]})


def test_fake_rejects_a_request_botocore_lets_through() -> None:
    """botocore checks lengths, not patterns; the service (and the fake) check both."""
    drs = FakeDrs()
    with pytest.raises(ClientError) as caught:
        drs.client().describe_job_log_items(jobID="drsjob-!!!!!!!!!!!!!!!!!")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert drs.violations and "does not match JobID pattern" in drs.violations[0]


def test_fake_serves_launch_end_although_the_enum_lacks_it() -> None:
    assert "LAUNCH_END" not in MODEL.shape_for("JobLogEvent").enum
    drs = FakeDrs()
    job_id = drs.add_job(["s-1111111111aaaaaaa"])
    drs.start(job_id)
    drs.finish(job_id)
    items = drs.client().describe_job_log_items(jobID=job_id)["items"]
    assert "LAUNCH_END" in [i["event"] for i in items]
    assert drs.violations == []
