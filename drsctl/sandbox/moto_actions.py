"""moto's servers find a request's action method once per response class, not per request.

Before calling the method for a request's action, moto's ``BaseResponse.call_action`` lists
every function of the response class (``inspect.getmembers``), on every request: about a
fifth of what moto spent answering a DynamoDB item read or write in the sandbox (0.2 ms of
1 ms). A class's functions are what its definition made them; the sandbox changes none
while it serves (its own shortcuts are installed before it starts), so the list is made
once per class. ``tests/sandbox/test_moto_actions.py`` holds the answers to moto's own.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


def find_actions_once() -> Callable[[], None]:
    """Install the cache; returns what puts moto's own lookup back."""
    from moto.core import responses

    listed = responses.method_names_from_class
    responses.method_names_from_class = functools.cache(listed)

    def restore() -> None:
        responses.method_names_from_class = listed

    return restore
