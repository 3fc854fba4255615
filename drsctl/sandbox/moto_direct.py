"""moto's DynamoDB answers without its Flask application around each request.

moto's server wraps every service in a Flask application: a request context and an
application context pushed, the URL matched, CORS headers added after the view, a Flask
response built. For DynamoDB, whose requests are most of a sandbox's, the view is always
``DynamoHandler.dispatch`` on ``/``, and that wrapping was a fifth of what an item read or
write cost (803 to 588 µs per request measured). ``DirectDynamoDb`` calls the view as
moto's wrapper (``moto.core.utils.convert_to_flask_response``) does, with the request
class moto's application uses, and sends what moto's application sends: the view's status,
headers and body, and the CORS header its ``flask_cors`` adds. Anything but a POST to ``/``
(a preflight, another path) is moto's application's, as before.

``tests/sandbox/test_moto_direct.py`` holds every answer to the application's, request by
request, over the runtime's own DynamoDB requests, refusals included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from flask import Response
from moto.core.request import normalize_request
from moto.dynamodb.responses import DynamoHandler
from moto.moto_api import recorder
from moto.moto_server.werkzeug_app import BackendRequest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

#: What moto's application adds to every answer (``flask_cors`` with its defaults: any
#: origin, sent whether or not the request named one).
CORS_HEADER = ("Access-Control-Allow-Origin", "*")


class DirectDynamoDb:
    """A WSGI application answering DynamoDB's requests as moto's application does."""

    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        """``application``: moto's own, for any request this one does not answer."""
        self._application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/":
            return self._application(environ, start_response)
        request = normalize_request(BackendRequest(environ))
        recorder._record_request(request)  # noqa: SLF001 - what moto's wrapper calls
        try:
            result = DynamoHandler.dispatch(request, request.raw_url, dict(request.headers))
        except ClientError as exc:  # as moto's wrapper answers it
            result = 400, {}, exc.response["Error"]["Message"]
        status, headers, content = result if len(result) == 3 else (200, {}, result)  # noqa: PLR2004
        response = Response(response=content, status=status, headers=headers)
        response.headers.setdefault(*CORS_HEADER)
        return response(environ, start_response)
