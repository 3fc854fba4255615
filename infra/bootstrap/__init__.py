"""The bootstrap program: per deployment, the deployment bucket and the CI roles.

Run once per deployment before the main program can be deployed from CI. Its stacks are
the main project's stacks (same names); it reads each deployment's name, region and bucket
from the main ``Pulumi.<stack>.yaml`` through ``infra/settings.py``, so the names match the
main program exactly.
"""
