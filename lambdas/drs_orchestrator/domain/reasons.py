"""Reasons and messages as an execution stores them: bounded, whatever they describe.

An execution lives on one DynamoDB item (400 KB). A reason that named every server and
copied an AWS error for each grew with the plan: a 500-server wave refused by a service
control policy (a 300-character ``AccessDeniedException``) made a 165 KB wave reason, copied
onto the execution and into its notification, and the save that would have recorded the
failure was over the limit on every tick, so the execution never ended (issue 32). A reason
here counts what it describes and names the first few; an error keeps its code (it comes
first, ``Code: message``) and a bounded message. What each server did stays on the item
(its batch, its launch status) and in the report.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

#: The longest error message or reason kept whole (an SCP's deny as DRS words it is ~300).
MESSAGE_CHARS = 400
#: The longest reason stored whole (a wave's, naming three reasons of the longest message).
REASON_CHARS = 1_800
#: How many servers (or jobs) a reason names before it counts the rest.
NAMED = 5
#: How many distinct reasons a wave's failure spells out before it counts the rest.
REASONS_SHOWN = 3


def bounded(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text`` whole when it is short, else its first ``limit`` characters and how many
    were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def named(items: Iterable[str], noun: str) -> str:
    """``2 servers: s-1, s-2``, or ``500 servers: s-0, s-1, s-2, s-3, s-4 and 495 more``
    (sorted, so the same set always reads the same)."""
    ordered = sorted(items)
    count = f"{len(ordered)} {noun}{'' if len(ordered) == 1 else 's'}"
    shown = ", ".join(ordered[:NAMED])
    rest = len(ordered) - NAMED
    return f"{count}: {shown}" + (f" and {rest} more" if rest > 0 else "")


def servers_not_launched(why_by_server: Mapping[str, str]) -> str:
    """Why a wave's servers did not launch, grouped by reason (most servers first):
    ``servers did not launch: 500 servers: s-0, … and 495 more (not launched: …)``, and
    with several reasons their total first (``… launch: 150 servers — 100 servers: …``)."""
    return "servers did not launch: " + by_reason(why_by_server)


def servers_not_home(why_by_server: Mapping[str, str]) -> str:
    """Why a failback wave's servers did not come home, as ``servers_not_launched`` words
    a launch: ``did not fail back: 2 servers: s-1, s-2 (its failback launch ended FAILED)``."""
    return "did not fail back: " + by_reason(why_by_server)


def by_reason(why_by_server: Mapping[str, str]) -> str:
    """Servers grouped by why (most servers first), the first ``REASONS_SHOWN`` reasons
    spelled out and the rest counted; with several reasons, their total first."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for server, why in why_by_server.items():
        grouped[bounded(why)].append(server)
    groups = sorted(grouped.items(), key=lambda group: (-len(group[1]), group[0]))
    parts = [f"{named(servers, 'server')} ({why})" for why, servers in groups[:REASONS_SHOWN]]
    others = groups[REASONS_SHOWN:]
    if others:
        count = sum(len(servers) for _, servers in others)
        parts.append(f"{count} more for {len(others)} other reasons")
    total = "" if len(groups) == 1 else f"{len(why_by_server)} servers — "
    return total + "; ".join(parts)


def with_servers_not_launched(reason: str, servers: Iterable[str]) -> str:
    """A wave's failure that is not a launch's (an action failed, an approval timed out,
    its target was lost, its state machine ended), with the wave's servers not launched
    when it failed counted: ``DR-Prepare failed: …; not launched: 101 servers: s-0, … and
    96 more``. Bounded to ``REASON_CHARS`` whole."""
    unlaunched = sorted(servers)
    if not unlaunched:
        return bounded(reason, REASON_CHARS)
    tail = f"; not launched: {named(unlaunched, 'server')}"
    return bounded(reason, REASON_CHARS - len(tail)) + tail
