"""Use cases that combine domain logic with adapters; handlers call into these."""
