"""Gateway to AWS Elastic Disaster Recovery (DRS).

Every listing call follows ``nextToken`` to the end (botocore's paginators); DescribeJobs is
asked for at most ``MAX_JOB_IDS_PER_FILTER`` job ids at a time, the limit of its filter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code, pages
from drs_orchestrator.domain.jobs import DrsJob
from drs_orchestrator.errors import (
    DrsAccessDeniedError,
    DrsError,
    DrsRequestRejectedError,
    DrsThrottledError,
    OutcomeUnknownError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

MAX_JOB_IDS_PER_FILTER = 1000

_ERRORS_BY_CODE: dict[str, type[DrsError]] = {
    "ThrottlingException": DrsThrottledError,
    "ServiceQuotaExceededException": DrsThrottledError,
    "ValidationException": DrsRequestRejectedError,
    "ResourceNotFoundException": DrsRequestRejectedError,
    "ConflictException": DrsRequestRejectedError,
    "AccessDeniedException": DrsAccessDeniedError,
    "UninitializedAccountException": DrsAccessDeniedError,
}
#: Codes after which a call may have taken effect: the caller reconciles before repeating.
OUTCOME_UNKNOWN_CODES = frozenset({"InternalServerException", "ServiceUnavailable"})


def map_drs_error(operation: str, exc: ClientError) -> DrsError:
    """The domain error for a DRS ClientError, chosen by its code alone."""
    code = error_code(exc)
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return _ERRORS_BY_CODE.get(code, DrsError)(operation, code, message)


def map_call_error(operation: str, exc: Exception) -> Exception:
    """A ClientError by its code; a lost answer (botocore's connection and time-out errors
    after its retries, or a 5xx) as ``OutcomeUnknownError``."""
    if isinstance(exc, ClientError):
        if error_code(exc) in OUTCOME_UNKNOWN_CODES:
            return OutcomeUnknownError(operation, error_code(exc))
        return map_drs_error(operation, exc)
    return OutcomeUnknownError(operation, type(exc).__name__)


def batched(values: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class DrsGateway:
    """Reads DRS jobs and job logs; the client is injected in tests."""

    def __init__(self, client: Any = None) -> None:
        self._client = client or make_client("drs")

    def _pages(self, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a listing call; a failure on any page is mapped by its code."""
        return pages(self._client, operation, map_call_error, **params)

    def describe_jobs(self, job_ids: Iterable[str]) -> dict[str, DrsJob]:
        """The jobs with these ids that DRS knows, by id; unknown ids are simply absent."""
        found: dict[str, DrsJob] = {}
        for batch in batched(sorted(set(job_ids)), MAX_JOB_IDS_PER_FILTER):
            for page in self._pages("describe_jobs", filters={"jobIDs": batch}):
                for item in page.get("items", []):
                    job = DrsJob.from_drs(item)
                    found[job.job_id] = job
        return found

    def source_servers(self) -> list[dict[str, Any]]:
        """Every DRS source server of the region, across all pages (never capped)."""
        items: list[dict[str, Any]] = []
        for page in self._pages("describe_source_servers", filters={}, maxResults=200):
            items.extend(page.get("items", []))
        return items

    def snapshot_before(self, server_id: str, moment: str) -> dict[str, Any] | None:
        """The newest point-in-time snapshot of ``server_id`` taken at or before ``moment``
        (DRS's form: ``YYYY-MM-DDTHH:MM:SS[.f]Z``), or None when it has none that old."""
        for page in self._pages(
            "describe_recovery_snapshots",
            sourceServerID=server_id,
            filters={"toDateTime": moment},
            order="DESC",
            PaginationConfig={"MaxItems": 1, "PageSize": 1},
        ):
            for item in page.get("items", []):
                return dict(item)
        return None

    def start_recovery(
        self,
        server_ids: list[str],
        *,
        is_drill: bool,
        tags: dict[str, str],
        snapshots: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Launch ``server_ids`` (at most 100, the per-job quota) as one DRS job, each from
        the point-in-time snapshot ``snapshots`` names for it (else the latest); returns
        the job as DescribeJobs describes it."""
        chosen = snapshots or {}
        try:
            response = self._client.start_recovery(
                sourceServers=[
                    {
                        "sourceServerID": s,
                        **({"recoverySnapshotID": chosen[s]} if s in chosen else {}),
                    }
                    for s in server_ids
                ],
                isDrill=is_drill,
                tags=tags,
            )
        except (ClientError, BotoCoreError) as exc:
            raise map_call_error("start_recovery", exc) from exc
        return dict(response["job"])

    def launch_configuration(self, server_id: str) -> dict[str, Any]:
        """The server's DRS launch configuration (GetLaunchConfiguration)."""
        try:
            response = self._client.get_launch_configuration(sourceServerID=server_id)
        except (ClientError, BotoCoreError) as exc:
            raise map_call_error("get_launch_configuration", exc) from exc
        return {k: v for k, v in response.items() if k != "ResponseMetadata"}

    def update_launch_configuration(
        self, server_id: str, settings: dict[str, Any]
    ) -> dict[str, Any]:
        """Set the given launch configuration fields of the server (the others stay);
        setting the same values again changes nothing, so a retry is harmless."""
        try:
            response = self._client.update_launch_configuration(
                sourceServerID=server_id, **settings
            )
        except (ClientError, BotoCoreError) as exc:
            raise map_call_error("update_launch_configuration", exc) from exc
        return {k: v for k, v in response.items() if k != "ResponseMetadata"}

    def jobs_tagged(self, key: str, values: Iterable[str], since: str) -> dict[str, dict[str, Any]]:
        """DescribeJobs items created since ``since`` (stored UTC form) whose tag ``key``
        has one of ``values``, by that value: how a launch whose answer was lost is found
        again. DescribeJobs filters by time, not tags, so every page is read."""
        wanted = set(values)
        found: dict[str, dict[str, Any]] = {}
        from_date = since[:19] + "Z"  # the filter's form: no fraction needed
        for page in self._pages("describe_jobs", filters={"fromDate": from_date}):
            for item in page.get("items", []):
                value = (item.get("tags") or {}).get(key)
                if value in wanted:
                    found[value] = item
        return found

    def active_jobs(self, since: str) -> list[dict[str, Any]]:
        """DescribeJobs items created since ``since`` (stored UTC form) that have not
        completed: what counts against DRS's quotas in this account and region now."""
        from_date = since[:19] + "Z"
        return [
            item
            for page in self._pages("describe_jobs", filters={"fromDate": from_date})
            for item in page.get("items", [])
            if item.get("status") != "COMPLETED"
        ]

    def terminations_of(self, instance_ids: Iterable[str], since: str) -> list[DrsJob]:
        """The TERMINATE jobs created since ``since`` (stored UTC form) that terminate any
        of the recovery instances: how a termination whose answer was lost, or whose
        function died once DRS was asked, is found and recorded. Every page is read."""
        wanted = set(instance_ids)
        from_date = since[:19] + "Z"
        return [
            DrsJob.from_drs(item)
            for page in self._pages("describe_jobs", filters={"fromDate": from_date})
            for item in page.get("items", [])
            if item.get("type") == "TERMINATE"
            and wanted
            & {s.get("recoveryInstanceID") for s in item.get("participatingServers") or []}
        ]

    def terminate_recovery_instances(self, instance_ids: list[str]) -> DrsJob:
        """Terminate recovery instances (at most 200 per call) as one TERMINATE job."""
        try:
            response = self._client.terminate_recovery_instances(recoveryInstanceIDs=instance_ids)
        except (ClientError, BotoCoreError) as exc:
            raise map_call_error("terminate_recovery_instances", exc) from exc
        return DrsJob.from_drs(response["job"])

    # -- failback (issue 19) ------------------------------------------------------------

    def recovery_instances(
        self, instance_ids: Iterable[str] | None = None, server_ids: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """Recovery instances (their failback state and replication included), every page:
        those named, or those of the named source servers, or all."""
        filters: dict[str, list[str]] = {}
        if instance_ids is not None:
            filters["recoveryInstanceIDs"] = sorted(set(instance_ids))
        if server_ids is not None:
            filters["sourceServerIDs"] = sorted(set(server_ids))
        items: list[dict[str, Any]] = []
        for page in self._pages("describe_recovery_instances", filters=filters, maxResults=200):
            items.extend(page.get("items", []))
        return items

    def reverse_replication(self, instance_id: str) -> str:
        """Start replicating an AWS-to-AWS recovery instance back to its origin; the ARN of
        the reversed-direction source server there. Asking again answers the same server."""
        try:
            response = self._client.reverse_replication(recoveryInstanceID=instance_id)
        except (ClientError, BotoCoreError) as exc:
            raise map_call_error("reverse_replication", exc) from exc
        return str(response["reversedDirectionSourceServerArn"])

    def start_failback_launch(self, instance_ids: list[str], tags: dict[str, str]) -> DrsJob:
        """Launch the failback of recovery instances ready for it (on-premises failback
        client connected and replicated) as one job."""
        try:
            response = self._client.start_failback_launch(
                recoveryInstanceIDs=instance_ids, tags=tags
            )
        except (ClientError, BotoCoreError) as exc:
            raise map_call_error("start_failback_launch", exc) from exc
        return DrsJob.from_drs(response["job"])

    def stop_failback(self, instance_id: str) -> None:
        try:
            self._client.stop_failback(recoveryInstanceID=instance_id)
        except (ClientError, BotoCoreError) as exc:
            raise map_call_error("stop_failback", exc) from exc

    def start_replication(self, server_id: str) -> dict[str, Any]:
        """Protect a source server again (forward replication) once its workload is home."""
        try:
            response = self._client.start_replication(sourceServerID=server_id)
        except (ClientError, BotoCoreError) as exc:
            raise map_call_error("start_replication", exc) from exc
        return dict(response.get("sourceServer") or {})

    def job_log_items(self, job_id: str) -> list[dict[str, Any]]:
        """Every item of a job's log, in the order DRS returns them, across all pages."""
        items: list[dict[str, Any]] = []
        for page in self._pages("describe_job_log_items", jobID=job_id):
            items.extend(page.get("items", []))
        return items
