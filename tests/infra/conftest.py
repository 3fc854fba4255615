"""Each stack of the repository evaluated once per test session under pulumi's mocks."""

from __future__ import annotations

import pytest

from infra.offline import Evaluation, evaluate, stack_files

STACKS = sorted(stack_files())
_CACHE: dict[str, Evaluation] = {}


def evaluated(stack: str) -> Evaluation:
    if stack not in _CACHE:
        _CACHE[stack] = evaluate(stack)
    return _CACHE[stack]


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> Evaluation:
    """The evaluation of one stack file; tests using it run once per Pulumi.<stack>.yaml."""
    return evaluated(request.param)


@pytest.fixture
def all_stacks() -> dict[str, Evaluation]:
    return {name: evaluated(name) for name in STACKS}
