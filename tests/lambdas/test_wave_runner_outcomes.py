"""What the shell makes of an error (``services/wave_runner.py``): a StartRecovery error,
by its code, and the state machine's error ``Finalise`` records.

The mapping decides whether a launch is asked again (throttled, quota full: certainly not
launched), refused for good, looked for by its tag (any other error: it may have launched),
or refused once no job of ours is found (DRS's ConflictException: another job holds the
servers). The end-to-end tests reach each outcome through a drill; mutation testing found
the conflict's answer could change without one of them noticing.
"""

from __future__ import annotations

import pytest
from drs_orchestrator.errors import DrsAccessDeniedError, DrsError, DrsThrottledError
from drs_orchestrator.services.wave_runner import REFUSAL_CODES, finalise_reason, launch_outcome


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (DrsThrottledError("StartRecovery", "ThrottlingException", "slow down"), "deferred"),
        (DrsThrottledError("StartRecovery", "ServiceQuotaExceededException", "full"), "deferred"),
        (DrsError("StartRecovery", "ConflictException", "already in a job"), "conflict"),
        (DrsAccessDeniedError("StartRecovery", "AccessDeniedException", "an SCP"), "refused"),
        (DrsAccessDeniedError("StartRecovery", "UnrecognizedClientException", "no"), "refused"),
        *((DrsError("StartRecovery", code, "no"), "refused") for code in sorted(REFUSAL_CODES)),
        (DrsError("StartRecovery", "InternalServerException", "5xx"), "doubt"),
        (DrsError("StartRecovery", "OutcomeUnknown", "read time-out"), "doubt"),
    ],
)
def test_a_start_recovery_error_says_what_became_of_the_launch(
    error: DrsError, outcome: str
) -> None:
    assert launch_outcome(error) == outcome


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (None, "the state machine failed: error"),
        ({"Error": "Lambda.Unknown"}, "the state machine failed: Lambda.Unknown"),
        (
            {"Error": "Lambda.Unknown", "Cause": "the function died"},
            "the state machine failed: Lambda.Unknown: the function died",
        ),
        ({"Error": "States.Timeout", "Cause": "x"}, "the state machine timed out waiting"),
        ({"Error": "E", "Cause": "c" * 900}, "the state machine failed: E: " + "c" * 500),
    ],
)
def test_finalise_records_the_error_it_was_passed_and_the_start_of_its_cause(
    error: dict | None, reason: str
) -> None:
    assert finalise_reason(error) == reason
