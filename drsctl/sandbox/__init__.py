"""``drsctl sandbox``: the orchestrator on localhost (``docs/SANDBOX.md``)."""

# moto accepts any secret key; this one is never a real credential. Tools beside the sandbox
# (drsctl compare) sign with it too.
SANDBOX_SECRET = "sandbox-secret"  # noqa: S105  # nosec B105
