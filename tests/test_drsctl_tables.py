"""drsctl's one table printer."""

from __future__ import annotations

from drsctl.tables import table_lines


def test_columns_line_up_and_no_line_ends_in_spaces() -> None:
    lines = table_lines([("a", "long value", "x"), ("bbb", "v", "")], ("COL", "VALUE", "LAST"))
    assert lines == [
        "COL  VALUE       LAST",
        "a    long value  x",
        "bbb  v",
    ]


def test_marks_prefix_rows_and_the_header_gets_blanks() -> None:
    lines = table_lines([("x", "1"), ("y", "2")], ("K", "V"), marks=["   ", "!= "])
    assert lines == ["   K  V", "   x  1", "!= y  2"]


def test_minimum_widths_and_gap() -> None:
    assert table_lines([("a", "b", "c")], gap=" ", widths=(4, 3)) == ["a    b   c"]
    assert table_lines([]) == []
