"""Step Functions' task tokens as the wave runner's gateway sees them (``StateMachines``):
each token can be handed back once; ``failures`` refusals come first."""

from __future__ import annotations

from drs_orchestrator.adapters.stepfunctions import StateMachineError


class FakeMachines:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.woken: list[str] = []
        #: Tokens handed back again (Step Functions: TaskTimedOut, ignored by the gateway).
        self.refused: list[str] = []

    def wake(self, token: str) -> bool:
        if self.failures:
            self.failures -= 1
            msg = "SendTaskSuccess failed with ThrottlingException"
            raise StateMachineError(msg)
        if token in self.woken:
            self.refused.append(token)
            return False
        self.woken.append(token)
        return True
