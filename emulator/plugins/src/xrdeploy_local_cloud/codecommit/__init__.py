"""AWS CodeCommit in the local cloud: repositories backed by local bare Git repositories."""
