"""The sandbox's moto finds a response class's action methods once
(``drsctl/sandbox/moto_actions.py``): the same methods moto lists on every request."""

from __future__ import annotations

import pytest
from moto.core import responses, utils
from moto.dynamodb.responses import DynamoHandler
from moto.events.responses import EventsHandler
from moto.iam.responses import IamResponse
from moto.stepfunctions.responses import StepFunctionResponse
from moto.sts.responses import TokenResponse

from drsctl.sandbox.moto_actions import find_actions_once


@pytest.mark.parametrize(
    "response_class",
    [DynamoHandler, StepFunctionResponse, EventsHandler, IamResponse, TokenResponse],
)
def test_a_response_class_lists_the_methods_moto_lists_once(response_class: type) -> None:
    before = responses.method_names_from_class
    restore = find_actions_once()
    try:
        listed = responses.method_names_from_class(response_class)
        assert listed == utils.method_names_from_class(response_class)  # moto's own lookup
        assert len(listed) > 5
        assert responses.method_names_from_class(response_class) is listed  # made once
    finally:
        restore()
    assert responses.method_names_from_class is before
