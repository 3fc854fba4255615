"""What building or proving a function's package can fail with, apart from the packaging
itself: a caller that only reports these (``drsctl``'s command line) need not import the
builder, and with it botocore's session, to name them."""

from __future__ import annotations


class PackagingError(RuntimeError):
    """Raised when a function's package cannot be built as specified."""


class HandlerProofError(PackagingError):
    """Raised when a built package cannot import its handler in a clean interpreter."""
