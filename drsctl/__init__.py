"""``drsctl``: the operator command line of the DRS orchestrator."""
