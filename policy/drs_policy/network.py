"""Network rules: every API method is authorised; CloudFront serves HTTPS from a private origin."""

from __future__ import annotations

import json

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from infra.gateway_document import authorizers, operations

METHOD = "aws:apigateway/method:Method"
REST_API = "aws:apigateway/restApi:RestApi"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
HTTPS_POLICIES = ("redirect-to-https", "https-only")
CURRENT_TLS = ["TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.3_2025"]


def validate_api_authorizer(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == REST_API:
        _validate_imported_api(args.props.get("body"), report)
        return
    if args.resource_type != METHOD or args.props.get("httpMethod") == "OPTIONS":
        return
    if args.props.get("authorization", "NONE") == "NONE":
        report(
            f"{args.props.get('httpMethod')} method has no authorizer (authorization NONE); "
            "only CORS preflight (OPTIONS) may be open",
            None,
        )


def _validate_imported_api(body: object, report: ReportViolation) -> None:
    """A REST API imported from an OpenAPI body: every operation but OPTIONS names an API
    Gateway authorizer (a security scheme with ``x-amazon-apigateway-authtype``)."""
    if not isinstance(body, str):
        return  # no body (methods declared one by one), or not known until its inputs are
    try:
        document = json.loads(body)
    except ValueError:
        report("the REST API's body is not a JSON OpenAPI document", None)
        return
    allowed = authorizers(document)
    for method, path, operation in sorted(operations(document), key=lambda o: (o[1], o[0])):
        if method == "OPTIONS" or not isinstance(operation, dict):
            continue
        security = operation.get("security", document.get("security")) or []
        if not any(set(requirement) & allowed for requirement in security):
            report(
                f"{method} {path} has no authorizer; only CORS preflight (OPTIONS) may be open",
                None,
            )


def validate_https_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DISTRIBUTION:
        return
    behaviours = [("default cache behaviour", args.props.get("defaultCacheBehavior") or {})]
    behaviours += [
        (f"cache behaviour '{b.get('pathPattern')}'", b)
        for b in args.props.get("orderedCacheBehaviors") or []
    ]
    for label, behaviour in behaviours:
        policy = behaviour.get("viewerProtocolPolicy")
        if policy not in HTTPS_POLICIES:
            report(f"{label} allows '{policy}'; use redirect-to-https or https-only", None)


def validate_tls_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DISTRIBUTION:
        return
    certificate = args.props.get("viewerCertificate") or {}
    if certificate.get("cloudfrontDefaultCertificate"):
        if not args.get_config().get("allowDefaultCertificate", True):
            report("uses the default *.cloudfront.net certificate, whose TLS floor is fixed", None)
        return
    allowed = args.get_config().get("minimumProtocolVersions") or CURRENT_TLS
    version = certificate.get("minimumProtocolVersion")
    if version not in allowed:
        report(f"minimum TLS version '{version}' is not one of {', '.join(allowed)}", None)


def validate_origin_access_control(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DISTRIBUTION:
        return
    for origin in args.props.get("origins") or []:
        is_s3 = ".s3." in str(origin.get("domainName", "")) or origin.get("s3OriginConfig")
        if is_s3 and not origin.get("originAccessControlId"):
            report(f"S3 origin '{origin.get('originId')}' has no origin access control", None)


BUCKET_OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"


def validate_console_sign_in(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A published ``config.json`` asks for Cognito: the sandbox's local sign-in (a token
    that stands for a user) must never reach a deployed console."""
    if args.resource_type != BUCKET_OBJECT or args.props.get("key") != "config.json":
        return
    content = args.props.get("content")
    if not isinstance(content, str):
        return  # not known until the API and user pool exist; checked again at update
    try:
        config = json.loads(content)
    except ValueError:
        report("console config.json is not JSON", None)
        return
    mode = (config.get("auth") or {}).get("mode") if isinstance(config, dict) else None
    if mode != "cognito":
        report(f"console config.json signs in with '{mode}'; a deployment must use 'cognito'", None)


POLICIES = [
    ResourceValidationPolicy(
        name="api-methods-have-authorizer",
        description="Every API Gateway method except CORS preflight has an authorizer, whether "
        "declared as a method or imported in the REST API's OpenAPI body.",
        validate=validate_api_authorizer,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="cloudfront-https-only",
        description="CloudFront redirects or restricts viewers to HTTPS on every behaviour.",
        validate=validate_https_only,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="cloudfront-current-tls",
        description="CloudFront with a custom certificate uses a current TLS security policy.",
        validate=validate_tls_policy,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "minimumProtocolVersions": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": CURRENT_TLS,
                },
                "allowDefaultCertificate": {"type": "boolean", "default": True},
            }
        ),
    ),
    ResourceValidationPolicy(
        name="cloudfront-origin-access-control",
        description="CloudFront reaches S3 origins only through origin access control.",
        validate=validate_origin_access_control,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="console-cognito-sign-in",
        description="A deployed console's config.json signs in with Cognito, never the sandbox's.",
        validate=validate_console_sign_in,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
]
