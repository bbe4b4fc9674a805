"""S3 with its object files in the local cloud's own directory.

LocalStack's S3 provider keeps object bodies under a fixed ``/tmp/localstack-s3-storage``
(``localstack.services.s3.provider.DEFAULT_S3_TMP_DIR``), not under ``TMPDIR``: every user and
every LocalStack on the machine shares it, another user's CreateBucket then fails with
"Permission denied", and nothing removes it. This is LocalStack's own provider with the same
store rooted in the run's temporary directory instead (the launcher points ``TMPDIR`` into the
run's state directory, which ``stop`` removes). Selected with ``PROVIDER_OVERRIDE_S3=xrdeploy``
(the entry point ``s3:xrdeploy`` in pyproject.toml).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from localstack.services.plugins import Service, aws_provider

PROVIDER_NAME = "xrdeploy"
STORAGE_DIR_NAME = "s3-storage"


def storage_root() -> Path:
    """Where S3 object bodies live: ``$TMPDIR/s3-storage`` of this LocalStack process."""
    return Path(tempfile.gettempdir()) / STORAGE_DIR_NAME


@aws_provider(api="s3", name=PROVIDER_NAME)
def s3() -> Service:
    # Imported here, as LocalStack's own factories do: plux imports this module to list plugins.
    from localstack.services.s3.provider import S3Provider
    from localstack.services.s3.storage.ephemeral import EphemeralS3ObjectStore

    store = EphemeralS3ObjectStore(str(storage_root()))
    return Service.for_provider(S3Provider(storage_backend=store))
