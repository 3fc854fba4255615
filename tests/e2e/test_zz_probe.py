import pytest
from tests.e2e.conftest import harness_world


def test_probe():
    for _ in range(20):
        with pytest.MonkeyPatch.context() as mp:
            with harness_world(mp) as h:
                pass
