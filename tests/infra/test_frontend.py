"""The console as each stack deploys it: private bucket, CloudFront with OAC, build, config."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from infra.console import build_console, console_files

if TYPE_CHECKING:
    from infra.offline import Evaluation


def objects(stack: Evaluation) -> dict[str, dict]:
    return {
        r.inputs["key"]: dict(r.inputs)
        for r in stack.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
        if r.parent_type.endswith(":Frontend")
    }


def test_the_console_config_asks_for_cognito_sign_in(stack: Evaluation) -> None:
    config = json.loads(objects(stack)["config.json"]["content"])
    assert config == {
        "stack": stack.stack,
        "deploymentName": stack.config["drs-orchestrator:deploymentName"],
        "region": stack.config["aws:region"],
        "apiUrl": stack.outputs["apiUrl"],
        "auth": {
            "mode": "cognito",
            "userPoolId": stack.outputs["userPoolId"],
            "userPoolClientId": stack.outputs["userPoolClientId"],
        },
    }


def test_every_built_file_is_published_with_its_caching(stack: Evaluation) -> None:
    published = objects(stack)
    built = console_files(build_console())
    assert set(published) == {f.key for f in built} | {"config.json"}
    assert published["index.html"]["cacheControl"] == "no-cache"
    assert published["config.json"]["cacheControl"] == "no-cache"
    assets = [k for k in published if k.startswith("assets/")]
    assert assets and all("immutable" in published[k]["cacheControl"] for k in assets)
    assert published["index.html"]["contentType"] == "text/html"
    bucket = stack.one("aws:s3/bucket:Bucket", "console-bucket").inputs["bucket"]
    assert {o["bucket"] for o in published.values()} == {bucket}
    assert bucket == f"{stack.config['drs-orchestrator:deploymentName']}-console"


def test_only_this_consoles_distribution_reads_the_bucket(stack: Evaluation) -> None:
    distribution = stack.one("aws:cloudfront/distribution:Distribution", "console-distribution")
    policy = json.loads(
        stack.one("aws:s3/bucketPolicy:BucketPolicy", "console-bucket-policy").inputs["policy"]
    )
    [allow] = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution.state["arn"]}}
    assert any(
        s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy["Statement"]
    )
    behaviour = distribution.inputs["defaultCacheBehavior"]
    assert behaviour["viewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["allowedMethods"] == ["GET", "HEAD"]
    [origin] = distribution.inputs["origins"]
    assert origin["originAccessControlId"]
    block = stack.one(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "console-bucket-public-access"
    ).inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "restrictPublicBuckets"))
    assert stack.outputs["consoleUrl"] == "https://dmock1234567890.cloudfront.net"
