"""CodeCommit's repositories per account and region, and its name rules (pure: no LocalStack)."""

from __future__ import annotations

import dataclasses
import datetime
import re
import threading

from xrdeploy_local_cloud.kit.errors import ServiceError

_NAME = re.compile(r"^[\w.-]{1,100}$")


@dataclasses.dataclass
class Repository:
    id: str
    name: str
    arn: str
    description: str | None
    kms_key_id: str
    created: datetime.datetime
    modified: datetime.datetime
    tags: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class RegionState:
    account_id: str = ""
    region: str = ""
    repositories: dict[str, Repository] = dataclasses.field(default_factory=dict)  # by name
    lock: threading.RLock = dataclasses.field(default_factory=threading.RLock, repr=False)

    def arn(self, name: str) -> str:
        return f"arn:aws:codecommit:{self.region}:{self.account_id}:{name}"

    def repository(self, name: str | None) -> Repository:
        if not name:
            raise ServiceError("RepositoryNameRequiredException", "A repository name is required.")
        found = self.repositories.get(name)
        if found is None:
            raise ServiceError("RepositoryDoesNotExistException", f"{name} does not exist")
        return found

    def by_arn(self, arn: str | None) -> Repository:
        if not arn:
            raise ServiceError("ResourceArnRequiredException", "A resource ARN is required.")
        prefix = f"arn:aws:codecommit:{self.region}:{self.account_id}:"
        if not arn.startswith(prefix):
            raise ServiceError(
                "InvalidResourceArnException", f"The value for the resource ARN is not valid: {arn}"
            )
        return self.repository(arn.removeprefix(prefix))


def check_name(name: str | None) -> str:
    """A name CodeCommit accepts: letters, digits, ``_``, ``.``, ``-``, at most 100, not ending
    in ``.git``."""
    if not name:
        raise ServiceError("RepositoryNameRequiredException", "A repository name is required.")
    if not _NAME.match(name) or name.endswith(".git") or name in (".", ".."):
        raise ServiceError(
            "InvalidRepositoryNameException",
            "A valid repository name is required: letters, digits, '_', '.' and '-', at most "
            "100 characters, not ending in .git.",
        )
    return name
