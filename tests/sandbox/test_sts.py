"""The sandbox's STS reads a target role's trust as IAM does (``drsctl/sandbox/sts.py``),
against the very document the target program declares."""

from __future__ import annotations

from drsctl.sandbox.sts import trusts
from infra.target.program import trust_document

DEV = "arn:aws:iam::123456789012:role/example-dev-wave-runner-role"
ARCHIVE = "arn:aws:iam::123456789012:role/example-archive-wave-runner-role"
TRUST = trust_document([DEV], "dev-7f3a")


def test_the_trusted_function_with_the_external_id_may_assume() -> None:
    assert trusts(TRUST, DEV, {"sts:ExternalId": "dev-7f3a"})


def test_a_wrong_or_missing_external_id_is_refused() -> None:
    assert not trusts(TRUST, DEV, {"sts:ExternalId": "dev-0000"})
    assert not trusts(TRUST, DEV, {"sts:ExternalId": ""})


def test_another_deployments_function_is_refused_even_with_the_external_id() -> None:
    assert not trusts(TRUST, ARCHIVE, {"sts:ExternalId": "dev-7f3a"})


def test_an_account_root_principal_trusts_every_role_of_that_account() -> None:
    root = trust_document(["arn:aws:iam::123456789012:root"], "x")
    assert trusts(root, ARCHIVE, {"sts:ExternalId": "x"})
    assert not trusts(root, "arn:aws:iam::444455556666:role/other", {"sts:ExternalId": "x"})
