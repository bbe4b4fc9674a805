"""Developer tools that run apart from the generator: the security-scan venv and its helpers."""
