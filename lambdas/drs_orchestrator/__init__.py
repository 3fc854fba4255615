"""Runtime code of the DRS orchestrator, shipped in every Lambda package.

``domain`` is pure Python, ``adapters`` wrap one AWS service each, ``handlers`` are the thin
entry points Lambda calls. Handlers read their configuration when first invoked, never at
import time, so a package can be proven importable without any AWS environment.
"""
