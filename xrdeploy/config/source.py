"""`app.source`: where the first stage's builds come from.

S3 (the default) is an upload of `app.source_object_key` into the first stage's source bucket.
A Git source is a branch of a GitHub repository, read through an AWS CodeConnections connection
(CodePipeline's CodeStarSourceConnection action, started by a V2 trigger on push), or of a
CodeCommit repository (the CodeCommit action, started by an EventBridge rule on the branch).
Either way the commit's zip is what every later stage receives.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StrictBool, model_validator

from xrdeploy.config.fields import Frozen, Text, matches

# CodePipeline's GitBranchFilterCriteria / GitFilePathFilterCriteria: 1-8 patterns per list.
MAX_FILTER_PATTERNS = 8
# A GitHub owner (user or organisation: letters, digits, hyphens, at most 39) and repository.
GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100}$")
# CodeCommit's rule for a repository name.
CODECOMMIT_REPOSITORY = re.compile(r"^[\w.-]{1,100}$")
# git check-ref-format, in short: no control characters, spaces, ~ ^ : ? * [ \, no "..", no "@{",
# no leading "-" or "/", no trailing "/" or ".lock".
BRANCH = re.compile(
    r"^(?![-/])(?!.*\.\.)(?!.*@\{)(?!.*//)(?!.*/$)(?!.*\.lock$)[^\s~^:?*\[\\\x00-\x1f\x7f]{1,255}$"
)
CONNECTION_ARN = re.compile(
    r"^arn:aws:(?:codestar-connections|codeconnections):(?P<region>[a-z0-9-]+):"
    r"(?P<account>\d{12}):connection/[A-Za-z0-9-]{1,64}$"
)
# CreateConnection's ConnectionName takes 1-32 characters; we keep to ones safe in every tool.
CONNECTION_NAME = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
FILTER_PATTERN = re.compile(r"^[^\x00-\x1f\x7f]{1,255}$")

Pattern = Annotated[Text, matches(FILTER_PATTERN, "1-255 characters of a glob pattern")]
Patterns = Annotated[tuple[Pattern, ...], Field(min_length=1, max_length=MAX_FILTER_PATTERNS)]
Branch = Annotated[Text, matches(BRANCH, "a Git branch name (git check-ref-format)")]


class GitFilter(Frozen):
    """Glob patterns a push must match (includes) and must not match (excludes)."""

    includes: Patterns | None = None
    excludes: Patterns | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> GitFilter:
        if self.includes is None and self.excludes is None:
            raise ValueError("give includes, excludes or both")
        return self


class PushFilter(Frozen):
    """Which pushes start the first stage (a V2 pipeline trigger's push filter)."""

    branches: GitFilter | None = None
    file_paths: GitFilter | None = None


class Source(Frozen):
    type: Literal["s3", "github", "codecommit"] = "s3"
    # github: owner/name; codecommit: the repository's name (first stage's account and region).
    repository: Text | None = None
    branch: Branch = "main"
    # github: the ARN of an existing connection, or the name of one xrdeploy creates.
    connection: Text | None = None
    # github only; omitted: pushes to `branch` start the stage.
    push: PushFilter | None = None
    # CodePipeline's full clone (OutputArtifactFormat CODEBUILD_CLONE_REF); refused, see below.
    full_clone: StrictBool = False

    @model_validator(mode="after")
    def _fits_type(self) -> Source:
        problems = {
            "s3": self._s3_problems,
            "github": self._github_problems,
            "codecommit": self._codecommit_problems,
        }[self.type]()
        if self.full_clone:
            problems.append(
                "full_clone: a full clone (CODEBUILD_CLONE_REF) can only be read by a CodeBuild "
                "action, and every stage deploys with CodeDeploy: leave it false"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _s3_problems(self) -> list[str]:
        given = sorted(self.model_fields_set - {"type"})
        return [f"{name}: applies to a Git source (type github or codecommit)" for name in given]

    def _github_problems(self) -> list[str]:
        problems = []
        if self.repository is None:
            problems.append("repository: required for type github (owner/name)")
        elif not GITHUB_REPOSITORY.fullmatch(self.repository):
            problems.append(f"repository: {self.repository!r} is not a GitHub owner/name")
        if self.connection is None:
            problems.append(
                "connection: required for type github (a connection ARN, or a name for a new "
                "connection)"
            )
        elif not (self.connection_arn or CONNECTION_NAME.fullmatch(self.connection)):
            problems.append(
                f"connection: {self.connection!r} is neither a connection ARN "
                "(arn:aws:codeconnections:REGION:ACCOUNT:connection/ID) nor a name of 1-32 "
                "letters, digits, '.', '_' and '-'"
            )
        return problems

    def _codecommit_problems(self) -> list[str]:
        problems = []
        if self.repository is None:
            problems.append("repository: required for type codecommit")
        elif not CODECOMMIT_REPOSITORY.fullmatch(self.repository):
            problems.append(
                f"repository: {self.repository!r} is not a CodeCommit repository name (1-100 "
                "letters, digits, '.', '_' and '-')"
            )
        if self.connection is not None:
            problems.append("connection: applies to type github; CodeCommit needs none")
        if self.push is not None:
            problems.append(
                "push: push filters are a V2 trigger, which CodePipeline offers only for "
                "connection sources (type github); a CodeCommit source starts on pushes to branch"
            )
        return problems

    @property
    def is_git(self) -> bool:
        return self.type != "s3"

    @property
    def connection_arn(self) -> str | None:
        """The existing connection's ARN; None when `connection` names one to create."""
        if self.connection is not None and CONNECTION_ARN.fullmatch(self.connection):
            return self.connection
        return None

    def connection_problems(self, account_id: str) -> list[str]:
        """A connection is used by pipelines of its own account only."""
        match = CONNECTION_ARN.fullmatch(self.connection_arn or "")
        if match is None or match["account"] == account_id:
            return []
        return [
            f"app.source.connection: the connection is in account {match['account']}, but the "
            f"first stage runs in {account_id}; use a connection of that account"
        ]
