"""The local cloud: LocalStack's Python runtime without Docker, with xrdeploy's plugins (Lambda as
local processes, CodePipeline, CodeDeploy, local EC2 instances, guards).

Users start it with ``python -m emulator up`` (see emulator/README.md); Python callers use
:mod:`emulator.launcher`.
"""
