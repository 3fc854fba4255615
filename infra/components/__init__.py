"""Pulumi ComponentResources of the orchestrator, one family per module."""
