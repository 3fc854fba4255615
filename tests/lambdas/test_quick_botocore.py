"""``tests/fakes/quick_botocore.py`` makes the clients botocore makes: a client built with a
kept class has the class members of one built from scratch and gives the same answers; S3's
class, which boto3's session shapes, is kept apart from a bare botocore session's; every
client shares one TLS context."""

from __future__ import annotations

import boto3
import botocore.session
import pytest
from moto import mock_aws

from tests.fakes import quick_botocore


def members(client: object) -> set[str]:
    return {name for name in dir(type(client)) if not name.startswith("__")}


def made(service: str) -> tuple[set[str], dict[str, str], object]:
    with mock_aws():
        client = boto3.client(service, region_name="us-east-1")
        return members(client), dict(client._PY_TO_OP_NAME), client  # noqa: SLF001


@pytest.mark.parametrize("service", ["dynamodb", "ec2", "sts", "iam", "s3"])
def test_a_client_made_quickly_is_the_client_botocore_makes(service: str) -> None:
    quick_members, quick_names, quick = made(service)
    again_members, _, again = made(service)
    with pytest.MonkeyPatch.context() as monkeypatch:
        quick_botocore.uninstall(monkeypatch)
        own_members, own_names, own = made(service)
    assert quick_members == own_members and quick_names == own_names
    assert type(quick) is type(again), "the class is kept"
    assert type(own) is not type(quick), "botocore's own built its class anew"
    if service == "s3":
        assert "upload_file" in quick_members, "boto3's session shaped S3's class"


def test_a_class_shaped_by_another_kind_of_session_is_another_class() -> None:
    with mock_aws():
        shaped = boto3.client("s3", region_name="us-east-1")
        bare = botocore.session.get_session().create_client("s3", region_name="us-east-1")
        again = botocore.session.get_session().create_client("s3", region_name="us-east-1")
    assert type(bare) is not type(shaped)
    assert type(bare) is type(again), "kept per kind of session"
    assert not hasattr(bare, "upload_file"), "boto3's transfer methods only where it shaped"
    assert hasattr(shaped, "upload_file") and hasattr(bare, "generate_presigned_url")


def test_clients_answer_the_same_with_a_kept_class() -> None:
    answers = []
    for quick in (True, False):
        with pytest.MonkeyPatch.context() as monkeypatch:
            if not quick:
                quick_botocore.uninstall(monkeypatch)
            with mock_aws():
                sts = boto3.client("sts", region_name="us-east-1")
                sqs_like = boto3.client("sns", region_name="us-east-1")
                topic = sqs_like.create_topic(Name="t")["TopicArn"]
                answers.append((sts.get_caller_identity()["Account"], topic))
    assert answers[0] == answers[1]


def presigned(region: str) -> tuple[str, object]:
    """An S3 link (its endpoint resolved by the rule set from the bucket and the region)."""
    s3 = boto3.client("s3", region_name=region, aws_access_key_id="k", aws_secret_access_key="s")
    link = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    return link.split("?", 1)[0], s3._ruleset_resolver._provider  # noqa: SLF001


def test_clients_share_one_endpoint_rule_set_that_resolves_as_botocores() -> None:
    quick = [presigned(region) for region in ("us-east-1", "eu-west-2")]
    with pytest.MonkeyPatch.context() as monkeypatch:
        quick_botocore.uninstall(monkeypatch)
        own = [presigned(region) for region in ("us-east-1", "eu-west-2")]
    assert [link for link, _ in quick] == [link for link, _ in own]
    assert quick[0][1] is quick[1][1], "one rule set for every S3 client"
    assert own[0][1] is not own[1][1], "botocore's own built one per client"


def test_every_client_shares_one_tls_context() -> None:
    with mock_aws():
        first, second = (boto3.client("sts", region_name="us-east-1") for _ in range(2))
    contexts = {
        id(c._endpoint.http_session._manager.connection_pool_kw["ssl_context"])  # noqa: SLF001
        for c in (first, second)
    }
    assert len(contexts) == 1


def test_the_quick_parts_are_what_the_tests_run_on() -> None:
    # tests/conftest.py installs them in every test process.
    for (owner, name), (_original, quick) in quick_botocore.PATCHES.items():
        assert vars(owner)[name] is quick, name
