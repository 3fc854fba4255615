"""A table of replacements a test process installs in a library, and can take back.

``tests/fakes/quick_botocore.py`` and ``quick_moto.py`` each keep one: for every attribute
replaced, the library's own and the quick one, so a test can hold the two to each other
and run on the library's own (``uninstall``) for its duration.
"""

from __future__ import annotations

from typing import Any


class PatchTable(dict[tuple[Any, str], tuple[Any, Any]]):
    """(class or module, attribute) -> (the library's own, the quick one)."""

    def install(self) -> None:
        """The quick ones, for the rest of the process."""
        for (owner, name), (_own, quick) in self.items():
            setattr(owner, name, quick)

    def uninstall(self, monkeypatch: Any) -> None:
        """The library's own for the rest of the test (``monkeypatch`` undoes it)."""
        for (owner, name), (own, _quick) in self.items():
            monkeypatch.setattr(owner, name, own)
