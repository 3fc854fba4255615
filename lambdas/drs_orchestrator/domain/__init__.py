"""Pure logic of the orchestrator: no boto3, no I/O, testable without any AWS fake."""
