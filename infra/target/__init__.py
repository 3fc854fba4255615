"""The target-account program: the role a deployment assumes in a DRS target account."""
