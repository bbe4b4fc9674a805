"""Where the local cloud serves its Git repositories (pure): the URL path of each, and the
repository a path names.

* A Git host behind a connection (GitHub, GitLab, Bitbucket, ...):
  ``/_xrdeploy/git/<provider>/<owner>/<name>.git``, ``<provider>`` the connection's
  ``ProviderType`` in lower case. One host per provider for the whole local cloud, as
  github.com is one host for every AWS account.
* CodeCommit: ``/_xrdeploy/git/codecommit/<account>/<region>/<name>``, CodeCommit's
  ``/v1/repos/<name>`` made unique per account and region.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

PREFIX = "/_xrdeploy/git"
CODECOMMIT = "codecommit"
# Provider types of CodeConnections (its API reference's ProviderType values).
PROVIDER_TYPES = (
    "Bitbucket",
    "GitHub",
    "GitHubEnterpriseServer",
    "GitLab",
    "GitLabSelfManaged",
    "AzureDevOps",
)
_HOSTS = {p.lower(): p for p in PROVIDER_TYPES}
_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")
_SERVICE_SUFFIXES = ("/info/refs", "/git-upload-pack", "/git-receive-pack", "/HEAD")


@dataclasses.dataclass(frozen=True)
class RepositoryAddress:
    """A repository of a connection's host (``owner``/``name``) or of CodeCommit (``account``,
    ``region``, ``name``)."""

    host: str  # a provider type in lower case, or "codecommit"
    name: str
    owner: str = ""
    account: str = ""
    region: str = ""

    @property
    def url_path(self) -> str:
        if self.host == CODECOMMIT:
            return f"{PREFIX}/{CODECOMMIT}/{self.account}/{self.region}/{self.name}"
        return f"{PREFIX}/{self.host}/{self.owner}/{self.name}.git"

    def directory(self, root: Path) -> Path:
        if self.host == CODECOMMIT:
            return root / CODECOMMIT / self.account / self.region / f"{self.name}.git"
        return root / self.host / self.owner / f"{self.name}.git"

    @property
    def full_repository_id(self) -> str:
        return f"{self.owner}/{self.name}"


def connection_repository(provider_type: str, full_repository_id: str) -> RepositoryAddress | None:
    """The repository ``owner/name`` on a connection's host; None if either is malformed."""
    owner, _, name = full_repository_id.partition("/")
    name = name.removesuffix(".git")
    if provider_type.lower() not in _HOSTS or not _valid(owner) or not _valid(name):
        return None
    return RepositoryAddress(host=provider_type.lower(), owner=owner, name=name)


def codecommit_repository(account: str, region: str, name: str) -> RepositoryAddress:
    return RepositoryAddress(host=CODECOMMIT, account=account, region=region, name=name)


def provider_type(host: str) -> str:
    return _HOSTS[host]


def parse(path: str) -> tuple[RepositoryAddress, str] | None:
    """The repository a request path under :data:`PREFIX` names, and the rest of the path
    (``/info/refs``, ``/git-receive-pack``, ...) that Git's HTTP backend answers."""
    rest = next((s for s in _SERVICE_SUFFIXES if path.endswith(s)), None)
    if rest is None or not path.startswith(PREFIX + "/"):
        return None
    parts = path[len(PREFIX) + 1 : -len(rest)].split("/")
    if parts[0] == CODECOMMIT and len(parts) == 4 and all(map(_valid, parts[1:])):
        return codecommit_repository(parts[1], parts[2], parts[3].removesuffix(".git")), rest
    if len(parts) == 3 and parts[0] in _HOSTS:
        address = connection_repository(parts[0], f"{parts[1]}/{parts[2]}")
        return (address, rest) if address else None
    return None


def _valid(segment: str) -> bool:
    return bool(_SEGMENT.match(segment)) and segment not in (".", "..")
