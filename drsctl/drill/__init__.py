"""``drsctl compare A B --drill PLAN``: one recovery plan drilled in two deployments, and
every difference in how they behaved explained."""
