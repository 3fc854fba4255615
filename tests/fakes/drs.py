"""The DRS simulator under the name the tests know it by (``drsctl/sandbox/drs.py``)."""

from drsctl.sandbox.drs import MODEL, DrsError, _RawBody, random_id
from drsctl.sandbox.drs import DrsSimulator as FakeDrs

__all__ = ["MODEL", "DrsError", "FakeDrs", "_RawBody", "random_id"]
