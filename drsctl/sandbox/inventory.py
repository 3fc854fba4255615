"""The DRS simulator's inventory: source servers, their point-in-time snapshots, launch
configurations and replication state (``DescribeSourceServers``, ``DescribeRecovery-
Snapshots``, ``GetLaunchConfiguration``, ``UpdateLaunchConfiguration``), and the controls
the sandbox and the tests use to shape them (a stalled or lagging server, a lost launch
template)."""

from __future__ import annotations

import json
import string
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from drsctl.sandbox.drs_forms import SNAPSHOT_HOURS, DrsError, _moment, page, random_id, zulu

if TYPE_CHECKING:
    from collections.abc import ItemsView, Iterator, KeysView, ValuesView

    from drsctl.sandbox.ec2 import MotoLaunchTemplates


def _snapshot(server_id: str, taken: datetime) -> dict[str, Any]:
    """A DescribeRecoverySnapshots item of ``server_id`` taken at ``taken``."""
    stamp = zulu(taken)
    return {
        "snapshotID": random_id("pit-", 17, string.ascii_lowercase + string.digits),
        "sourceServerID": server_id,
        "expectedTimestamp": stamp,
        "timestamp": stamp,
        "ebsSnapshots": [random_id("snap-", 17, string.ascii_lowercase + string.digits)],
    }


class SnapshotHistory(dict[str, list[dict[str, Any]]]):
    """Each source server's point-in-time snapshots, oldest first; a server nobody added
    snapshots to has none. A server added comes with one an hour for the last
    ``SNAPSHOT_HOURS``, drawn when its snapshots are first read: the API's tests seed 250
    servers for every test and read the snapshots of a few, and drawing 6,000 snapshots
    each time was a sixth of their time."""

    def __init__(self) -> None:
        super().__init__()
        self._hourly_until: dict[str, datetime] = {}

    def add_hourly(self, server_id: str, until: datetime) -> None:
        """Give ``server_id`` a snapshot an hour for the ``SNAPSHOT_HOURS`` before ``until``."""
        if super().__contains__(server_id):
            self[server_id][:0] = self._hourly(server_id, until)
            self[server_id].sort(key=lambda s: s["timestamp"])
        else:
            self._hourly_until[server_id] = until

    @staticmethod
    def _hourly(server_id: str, until: datetime) -> list[dict[str, Any]]:
        return [
            _snapshot(server_id, until - timedelta(hours=hours))
            for hours in range(SNAPSHOT_HOURS, 0, -1)
        ]

    def __missing__(self, server_id: str) -> list[dict[str, Any]]:
        until = self._hourly_until.pop(server_id, None)
        drawn = [] if until is None else self._hourly(server_id, until)
        super().__setitem__(server_id, drawn)
        return drawn

    def __setitem__(self, server_id: str, snapshots: list[dict[str, Any]]) -> None:
        self._hourly_until.pop(server_id, None)
        super().__setitem__(server_id, snapshots)

    def __contains__(self, server_id: object) -> bool:
        return super().__contains__(server_id) or server_id in self._hourly_until

    def get(self, server_id: str, default: Any = None) -> Any:  # type: ignore[override]
        # dict.get never calls __missing__: a server whose hours are not drawn yet would
        # read as having none.
        return self[server_id] if server_id in self else default  # noqa: SIM401

    def _draw_all(self) -> None:
        for server_id in list(self._hourly_until):
            self.__missing__(server_id)

    def __iter__(self) -> Iterator[str]:
        self._draw_all()
        return super().__iter__()

    def __len__(self) -> int:
        return super().__len__() + len(self._hourly_until)

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        self._draw_all()
        return super().keys()

    def values(self) -> ValuesView[list[dict[str, Any]]]:  # type: ignore[override]
        self._draw_all()
        return super().values()

    def items(self) -> ItemsView[str, list[dict[str, Any]]]:  # type: ignore[override]
        self._draw_all()
        return super().items()


class InventoryOperations:
    """Source servers and what DRS keeps of each, mixed into ``DrsSimulator`` (which holds
    the lock and the clock these read)."""

    region: str
    account: str
    source_servers: list[dict[str, Any]]
    failing_servers: set[str]
    snapshots: SnapshotHistory
    launch_configurations: dict[str, dict[str, Any]]
    templates: MotoLaunchTemplates | None
    origins: dict[str, tuple[str, str]]
    _clock: datetime

    def add_source_server(
        self,
        server_id: str,
        tags: dict[str, str] | None = None,
        hostname: str | None = None,
        *,
        staging_account: str | None = None,
        origin: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """Put a source server in this DRS's inventory; with ``staging_account`` it is an
        extended source server (that account replicates it; it launches here)."""
        server: dict[str, Any] = {
            "sourceServerID": server_id,
            "arn": f"arn:aws:drs:{self.region}:{self.account}:source-server/{server_id}",
            "tags": dict(tags or {}),
            "lastLaunchResult": "NOT_STARTED",
            "replicationDirection": "FAILOVER",
            "dataReplicationInfo": {
                "dataReplicationState": "CONTINUOUS",
                "lagDuration": "PT0S",
                "replicatedDisks": [],
            },
        }
        if hostname:
            server["sourceProperties"] = {"identificationHints": {"hostname": hostname}}
        self.snapshots.add_hourly(server_id, self._clock)
        if staging_account:
            server["stagingArea"] = {
                "status": "EXTENDED",
                "stagingAccountID": staging_account,
                "stagingSourceServerArn": server["arn"].replace(self.account, staging_account),
            }
        if origin:
            # An EC2 instance in another region or account (AWS-to-AWS replication).
            server["sourceCloudProperties"] = {
                "originRegion": origin[0],
                "originAccountID": origin[1],
                "originAvailabilityZone": f"{origin[0]}a",
            }
            self.origins[server_id] = origin
        self.source_servers.append(server)
        self.launch_configurations[server_id] = {
            "sourceServerID": server_id,
            "name": hostname or server_id,
            "ec2LaunchTemplateID": (
                self.templates.create(server_id)
                if self.templates is not None
                else random_id("lt-", 17, string.ascii_lowercase + string.digits)
            ),
            # DRS's defaults for a new source server.
            "launchDisposition": "STARTED",
            "targetInstanceTypeRightSizingMethod": "BASIC",
            "copyPrivateIp": False,
            "copyTags": False,
            "licensing": {"osByol": True},
            "postLaunchEnabled": False,
        }
        return server

    def lose_template(self, server_id: str) -> str:
        """Delete the EC2 launch template of ``server_id`` (someone cleaned it up); DRS
        cannot launch the server until it has one again. Returns the template's id."""
        template_id = str(self.launch_configurations[server_id]["ec2LaunchTemplateID"])
        if self.templates is not None:
            self.templates.delete(template_id)
        return template_id

    def _cannot_launch(self, server_id: str) -> bool:
        """Whether launching ``server_id`` fails: made to (``failing_servers``), or its
        launch template is gone."""
        if server_id in self.failing_servers:
            return True
        configuration = self.launch_configurations.get(server_id)
        return bool(
            self.templates is not None
            and configuration
            and not self.templates.exists(str(configuration["ec2LaunchTemplateID"]))
        )

    def _server(self, server_id: str) -> dict[str, Any]:
        return next(s for s in self.source_servers if s["sourceServerID"] == server_id)

    def stall(self, server_id: str, error: str = "AGENT_NOT_SEEN") -> None:
        """Data replication of ``server_id`` stops keeping up: STALLED, with DRS's error."""
        info = self._server(server_id).setdefault("dataReplicationInfo", {})
        info["dataReplicationState"] = "STALLED"
        info["dataReplicationError"] = {"error": error, "rawError": f"simulated {error}"}

    def replicate(self, server_id: str) -> None:
        """Data replication of ``server_id`` is continuous again, with no lag."""
        info = self._server(server_id).setdefault("dataReplicationInfo", {})
        info["dataReplicationState"] = "CONTINUOUS"
        info.pop("dataReplicationError", None)
        info["lagDuration"] = "PT0S"

    def lag(self, server_id: str, seconds: int) -> None:
        """Data replication of ``server_id`` runs ``seconds`` behind (its ``lagDuration``)."""
        info = self._server(server_id).setdefault("dataReplicationInfo", {})
        info["lagDuration"] = f"PT{int(seconds)}S"

    def add_snapshot(self, server_id: str, taken: datetime) -> dict[str, Any]:
        """A point-in-time snapshot of ``server_id`` taken at ``taken``."""
        snapshot = _snapshot(server_id, taken)
        taken_so_far = self.snapshots[server_id]
        taken_so_far.append(snapshot)
        if len(taken_so_far) > 1 and taken_so_far[-2]["timestamp"] > snapshot["timestamp"]:
            taken_so_far.sort(key=lambda s: s["timestamp"])
        return snapshot

    def _op_DescribeRecoverySnapshots(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        server_id = params["sourceServerID"]
        if server_id not in {s["sourceServerID"] for s in self.source_servers}:
            raise DrsError("ResourceNotFoundException", 404, f"no source server {server_id}")
        filters = params.get("filters") or {}
        earliest, latest = filters.get("fromDateTime"), filters.get("toDateTime")
        for moment in (earliest, latest):
            try:
                _ = moment and _moment(moment)
            except ValueError as exc:  # the model's pattern allows a 31 February
                raise DrsError("ValidationException", 400, f"{moment}: {exc}") from exc
        items = [
            s
            for s in self.snapshots.get(server_id, [])
            if (not earliest or _moment(s["timestamp"]) >= _moment(earliest))
            and (not latest or _moment(s["timestamp"]) <= _moment(latest))
        ]
        if params.get("order") == "DESC":
            items = items[::-1]
        return page(json.loads(json.dumps(items)), params, 100)

    def _launch_configuration(self, server_id: str) -> dict[str, Any]:
        found = self.launch_configurations.get(server_id)
        if found is None:
            raise DrsError("ResourceNotFoundException", 404, f"no source server {server_id}")
        return found

    def _op_GetLaunchConfiguration(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return json.loads(json.dumps(self._launch_configuration(params["sourceServerID"])))

    def _op_UpdateLaunchConfiguration(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        configuration = self._launch_configuration(params["sourceServerID"])
        configuration.update({k: v for k, v in params.items() if k != "sourceServerID"})
        return json.loads(json.dumps(configuration))

    def _op_DescribeSourceServers(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        wanted = (params.get("filters") or {}).get("sourceServerIDs")
        items = [s for s in self.source_servers if not wanted or s["sourceServerID"] in wanted]
        return page(json.loads(json.dumps(items)), params, 200)
