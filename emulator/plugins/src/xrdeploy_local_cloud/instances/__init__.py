"""Local EC2 instances: each running instance that CodeDeploy deploys to is a sandbox of Linux
namespaces on this host (:mod:`.host` is the interface, :mod:`.holder` the sandbox itself)."""
