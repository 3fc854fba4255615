"""One way ``drsctl`` prints a table: aligned columns, trailing spaces never."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def table_lines(
    rows: Sequence[Sequence[str]],
    header: Sequence[str] | None = None,
    *,
    marks: Sequence[str] | None = None,
    gap: str = "  ",
    widths: Sequence[int] = (),
) -> list[str]:
    """``rows`` (and ``header`` above them) as lines whose columns line up.

    Each column is as wide as its widest cell, or ``widths[i]`` when that is wider; the
    last column is not padded. ``marks`` prefix the rows (the header gets blanks as wide)."""
    everything = [list(header)] if header is not None else []
    everything += [list(r) for r in rows]
    if not everything:
        return []
    columns = max(len(r) for r in everything)
    width = [
        max([len(r[i]) for r in everything if i < len(r)] + [widths[i] if i < len(widths) else 0])
        for i in range(columns)
    ]
    prefixes = [" " * max((len(m) for m in marks), default=0)] if marks and header else []
    prefixes += list(marks or [])
    lines = []
    for index, row in enumerate(everything):
        cells = [c.ljust(width[i]) for i, c in enumerate(row)]
        prefix = prefixes[index] if prefixes else ""
        lines.append((prefix + gap.join(cells)).rstrip())
    return lines
