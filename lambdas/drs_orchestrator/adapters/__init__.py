"""Gateways to AWS services, one module per service; boto3 lives here and nowhere else."""
