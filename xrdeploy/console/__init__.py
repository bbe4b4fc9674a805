"""The pipeline console: each stage's pipeline, its promotion ledger and the permissions its roles
used, read through the AWS APIs only (so it works the same on AWS and in the local cloud)."""
