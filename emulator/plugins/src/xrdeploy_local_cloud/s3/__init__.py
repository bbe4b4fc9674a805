"""LocalStack's S3, with its files kept in the run's own directory."""
