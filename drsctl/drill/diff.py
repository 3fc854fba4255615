"""Two traces compared aspect by aspect, the first event where the runs part, and the
report a person reads (durations are shown, never judged: they vary run to run)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from drsctl.tables import table_lines

if TYPE_CHECKING:
    from drsctl.drill.trace import Trace

POLLING = "progress first recorded by"
#: Whether the scheduled finder kept the execution up to date is behaviour; whether the wave
#: runner's fallback also stepped in depends on timing (it does whenever DRS is quiet for
#: longer than the staleness limit), so only the schedule's part is compared.
SCHEDULED = f"{POLLING} the schedule"


def _scheduled(trace: Trace) -> str:
    if "schedule" in trace.polling:
        return "yes"
    return "no (only the wave runner's fallback)" if trace.polling else "no"


@dataclass(frozen=True)
class Difference:
    aspect: str
    subject: str
    first: Any
    second: Any


@dataclass(frozen=True)
class Divergence:
    """The first event where the two runs part: at about ``seconds`` into the drill."""

    seconds: float
    first: str
    second: str


@dataclass(frozen=True)
class Comparison:
    first: Trace
    second: Trace
    differences: list[Difference]
    divergence: Divergence | None
    not_compared: list[str]

    @property
    def same(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": "same behaviour" if self.same else "different behaviour",
            "differences": [asdict(d) for d in self.differences],
            "firstDivergence": asdict(self.divergence) if self.divergence else None,
            "notCompared": self.not_compared,
            "traces": {"first": self.first.as_dict(), "second": self.second.as_dict()},
        }


def _per_key(aspect: str, a: dict[str, Any], b: dict[str, Any]) -> list[Difference]:
    return [
        Difference(aspect, key, a.get(key, "-"), b.get(key, "-"))
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]


def compare(first: Trace, second: Trace) -> Comparison:
    differences: list[Difference] = []
    not_compared: list[str] = []
    for aspect, a, b in (
        ("execution status", first.status, second.status),
        ("wave start order", first.wave_order, second.wave_order),
        ("overlapping waves", first.overlaps_out_of_order, second.overlaps_out_of_order),
        ("pauses", first.pauses, second.pauses),
        ("progress recorded by the scheduled finder", _scheduled(first), _scheduled(second)),
    ):
        if a != b:
            differences.append(Difference(aspect, "", a, b))
    wave_states = {n: w["status"] for n, w in first.waves.items()}
    differences += _per_key(
        "wave end state", wave_states, {n: w["status"] for n, w in second.waves.items()}
    )
    differences += _per_key("jobs per wave", first.jobs_per_wave, second.jobs_per_wave)
    differences += _per_key("server launch status", first.servers, second.servers)
    differences += _per_key("DRS job event types", first.event_types, second.event_types)
    if first.state_path is None or second.state_path is None:
        not_compared.append("Step Functions state path (execution history not readable)")
    elif first.state_path != second.state_path:
        differences.append(
            Difference("Step Functions state path", "", first.state_path, second.state_path)
        )
    return Comparison(first, second, differences, first_divergence(first, second), not_compared)


def first_divergence(first: Trace, second: Trace) -> Divergence | None:
    """The earliest event one run has and the other has not, or has in another place."""
    candidates: list[Divergence] = []
    ordered_a = [m for m in first.milestones if not m[1].startswith(POLLING)]
    ordered_b = [m for m in second.milestones if not m[1].startswith(POLLING)]
    for index in range(max(len(ordered_a), len(ordered_b))):
        a = ordered_a[index] if index < len(ordered_a) else None
        b = ordered_b[index] if index < len(ordered_b) else None
        if a is None or b is None or a[1] != b[1]:
            seconds = min(m[0] for m in (a, b) if m is not None)
            candidates.append(Divergence(seconds, _at(a, "nothing more"), _at(b, "nothing more")))
            break
    polled_a = {m[1]: m[0] for m in first.milestones if m[1] == SCHEDULED}
    polled_b = {m[1]: m[0] for m in second.milestones if m[1] == SCHEDULED}
    if set(polled_a) != set(polled_b):
        seconds = next(iter({**polled_a, **polled_b}.values()))
        candidates.append(
            Divergence(
                seconds,
                _at((seconds, SCHEDULED), "") if polled_a else _never(first),
                _at((seconds, SCHEDULED), "") if polled_b else _never(second),
            )
        )
    if not candidates:
        for subject in sorted(set(first.event_types) | set(second.event_types)):
            a_types = first.event_types.get(subject, [])
            b_types = second.event_types.get(subject, [])
            if a_types != b_types:
                index = next(
                    (i for i, (x, y) in enumerate(zip(a_types, b_types, strict=False)) if x != y),
                    min(len(a_types), len(b_types)),
                )
                return Divergence(
                    0.0,
                    f"{subject}: event {index + 1} {_nth(a_types, index)}",
                    f"{subject}: event {index + 1} {_nth(b_types, index)}",
                )
        return None
    return min(candidates, key=lambda d: d.seconds)


def _nth(types: list[str], index: int) -> str:
    return types[index] if index < len(types) else "no more events"


def _at(milestone: tuple[float, str] | None, absent: str) -> str:
    if milestone is None:
        return absent
    return f"{milestone[1]} (+{milestone[0]:.1f} s)"


def _never(trace: Trace) -> str:
    fallback = next((m for m in trace.milestones if m[1] == f"{POLLING} the wave-runner"), None)
    if fallback is None:
        return "the scheduled finder never recorded progress"
    return f"the scheduled finder never recorded progress; {fallback[1]} (+{fallback[0]:.1f} s)"


def _cell(value: Any) -> str:
    if isinstance(value, list):
        if value and isinstance(value[0], list):
            return ", ".join(" + ".join(v) for v in value) or "-"
        return " -> ".join(str(v) for v in value) if value else "-"
    return "-" if value in (None, "") else str(value)


def render(comparison: Comparison) -> str:
    """The side-by-side report."""
    a, b = comparison.first, comparison.second
    width = 34
    rows = [("", a.deployment, b.deployment), ("execution", a.status, b.status)]
    rows += [("wave start order", _cell(a.wave_order), _cell(b.wave_order))]
    rows += [("overlapping waves", _cell(a.overlaps_out_of_order), _cell(b.overlaps_out_of_order))]
    rows += [("pauses approved", _cell(a.pauses), _cell(b.pauses))]
    rows += [("scheduled finder polled", _scheduled(a), _scheduled(b))]
    for name in a.waves:
        rows.append(
            (
                f"wave {name}",
                f"{a.waves[name]['status']}, {a.jobs_per_wave.get(name, 0)} job(s)",
                f"{b.waves.get(name, {}).get('status', '-')}, "
                f"{b.jobs_per_wave.get(name, 0)} job(s)",
            )
        )
    servers_same = a.servers == b.servers
    rows.append(
        (
            "servers launched",
            f"{sum(s == 'LAUNCHED' for s in a.servers.values())} of {len(a.servers)}",
            f"{sum(s == 'LAUNCHED' for s in b.servers.values())} of {len(b.servers)}",
        )
    )
    if a.state_path is not None and b.state_path is not None:
        rows.append(("state path (loops once)", _cell(a.state_path), _cell(b.state_path)))
    for key, value in a.durations.items():
        other = b.durations.get(key)
        rows.append((f"duration {key}", _seconds(value), _seconds(other)))
    lines = table_lines(rows, gap=" ", widths=(26, width))
    lines.append("")
    same_events = a.event_types == b.event_types
    lines.append(
        f"per-server launch status: {'same' if servers_same else 'different'}; "
        f"DRS job event types per server: {'same' if same_events else 'different'} "
        f"({len(a.event_types)} subjects)"
    )
    for note in comparison.not_compared:
        lines.append(f"not compared: {note}")
    lines.append("")
    if comparison.same:
        lines.append("verdict: SAME BEHAVIOUR")
        return "\n".join(lines)
    lines.append(f"verdict: DIFFERENT BEHAVIOUR ({len(comparison.differences)} difference(s))")
    if comparison.divergence:
        d = comparison.divergence
        lines.append(f"first divergence at about +{d.seconds:.1f} s:")
        lines.append(f"  {a.deployment}: {d.first}")
        lines.append(f"  {b.deployment}: {d.second}")
    for diff in comparison.differences:
        subject = f" {diff.subject}" if diff.subject else ""
        lines.append(
            f"- {diff.aspect}{subject}: {a.deployment} {_cell(diff.first)}"
            f" | {b.deployment} {_cell(diff.second)}"
        )
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"
