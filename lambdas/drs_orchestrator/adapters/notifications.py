"""SNS notifications: executions (started, waiting for approval, completed, ...) and
changes of a plan's readiness."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code
from drs_orchestrator.errors import OrchestratorError


class NotificationError(OrchestratorError):
    """Raised when SNS refuses a notification."""


class Notifier:
    """Publishes one JSON message per execution event to the deployment's topic."""

    def __init__(self, topic_arn: str, client: Any = None) -> None:
        self._topic_arn = topic_arn
        self._client = client or make_client("sns")

    def publish(self, event: str, execution: dict[str, Any], **details: Any) -> None:
        mode = str(execution.get("mode", "")).lower() or "execution"
        subject = f"DRS {mode} of {execution.get('planName', '?')}: {event}"
        message = {
            "event": event,
            "executionId": execution.get("executionId"),
            "planName": execution.get("planName"),
            "mode": execution.get("mode"),
            "status": execution.get("status"),
            **details,
        }
        self.publish_message(subject, message)

    def publish_message(self, subject: str, message: dict[str, Any]) -> None:
        """One JSON message; SNS allows subjects of at most 100 characters."""
        try:
            self._client.publish(
                TopicArn=self._topic_arn,
                Subject=subject[:100],
                Message=json.dumps(message, sort_keys=True, default=str),
            )
        except (ClientError, BotoCoreError) as exc:
            msg = f"SNS Publish failed with {error_code(exc)}"
            raise NotificationError(msg) from exc
