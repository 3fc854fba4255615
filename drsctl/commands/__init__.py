"""drsctl's subcommands, one module each: its arguments and how it runs (imported lazily)."""

from drsctl.commands import (
    compare,
    config,
    failback,
    operate,
    plan,
    readiness,
    report,
    sandbox,
    verify,
)

SUBCOMMANDS = (plan, verify, compare, sandbox, readiness, report, operate, failback, config)
