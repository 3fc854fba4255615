"""Entry points Lambda calls; each wires adapters to domain logic and does little else."""
