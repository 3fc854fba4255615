"""The ID tokens a deployment's REST API needs, and how to reach a sandbox's emulated AWS
(the client itself is ``drsctl/api_client.py``).

Sandbox deployments hand out their token in ``config.json``; live ones are signed in to
with Cognito's SRP flow (the console's flow; the password never leaves this process) with
the credentials in the environment.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any
from urllib.request import urlopen

if TYPE_CHECKING:
    from collections.abc import Callable

from drsctl.api_client import TIMEOUT_SECONDS, ApiCallError


def sandbox_token(site_url: str) -> str:
    with urlopen(f"{site_url}/config.json", timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
        config = json.loads(response.read())
    if (config.get("auth") or {}).get("mode") != "sandbox":
        answer = {"message": f"{site_url} is not a sandbox deployment"}
        raise ApiCallError(method="GET", path="/config.json", status=0, body=answer)
    return str(config["auth"]["token"])


def sandbox_aws(site_url: str) -> dict[str, str]:
    """How to reach a sandbox deployment's emulated AWS (``/sandbox/state``'s ``aws``)."""
    with urlopen(f"{site_url}/sandbox/state", timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
        return dict(json.loads(response.read())["aws"])


def sandbox_client(aws: dict[str, str], service: str) -> Any:
    """A boto3 client of ``service`` on a sandbox deployment's emulated AWS."""
    import boto3

    from drsctl.sandbox import SANDBOX_SECRET

    return boto3.client(
        service,
        region_name=aws["region"],
        endpoint_url=aws["endpoint"],
        aws_access_key_id=aws["accessKeyId"],
        aws_secret_access_key=SANDBOX_SECRET,
    )


def credentials_for(stack: str, environ: dict[str, str] | None = None) -> tuple[str, str]:
    """``DRS_ORCHESTRATOR_<STACK>_USERNAME``/``_PASSWORD``, else the unprefixed pair."""
    environ = dict(os.environ if environ is None else environ)
    prefix = "DRS_ORCHESTRATOR_" + "".join(c if c.isalnum() else "_" for c in stack.upper())
    for user_key, password_key in (
        (f"{prefix}_USERNAME", f"{prefix}_PASSWORD"),
        ("DRS_ORCHESTRATOR_USERNAME", "DRS_ORCHESTRATOR_PASSWORD"),
    ):
        if environ.get(user_key) and environ.get(password_key):
            return environ[user_key], environ[password_key]
    msg = (
        f"no Cognito credentials for {stack}: set {prefix}_USERNAME and {prefix}_PASSWORD "
        "(or DRS_ORCHESTRATOR_USERNAME and DRS_ORCHESTRATOR_PASSWORD) for an operator user"
    )
    raise ApiCallError(method="AUTH", path=stack, status=0, body={"message": msg})


def cognito_token(
    username: str, password: str, user_pool_id: str, client_id: str, cognito: Any
) -> Callable[[], str]:
    """An ID token provider signed in once with SRP (tokens last an hour: a drill fits)."""
    from pycognito.aws_srp import AWSSRP

    srp = AWSSRP(
        username=username,
        password=password,
        pool_id=user_pool_id,
        client_id=client_id,
        client=cognito,
    )
    result = srp.authenticate_user()
    token = str(result["AuthenticationResult"]["IdToken"])
    return lambda: token
