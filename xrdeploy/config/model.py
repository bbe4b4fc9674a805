"""The chain config: YAML in, immutable validated objects out.

Everything the generator and the CLI know about a chain comes through `load_config`. Validation
happens here, once, and every problem becomes one line naming the file and the field.
"""

from __future__ import annotations

import ipaddress
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, Field, StrictBool, StrictInt, ValidationError, model_validator

from modules.ami import is_graviton
from xrdeploy.config.fields import (
    DEPLOYMENT_CONFIG,
    INSTANCE_TYPE,
    KEY_PAIR_NAME,
    ROLE_NAME,
    S3_KEY,
    TAG_VALUE,
    AccountId,
    AppName,
    Cidr,
    Frozen,
    Region,
    StageName,
    Text,
    matches,
)
from xrdeploy.config.gates import Gates, Notifications
from xrdeploy.config.naming import Naming
from xrdeploy.config.source import Source
from xrdeploy.config.topology import Topology
from xrdeploy.errors import ConfigError

DEFAULT_CONFIG_NAME = "default_config.yaml"


class Backend(Frozen):
    """Where Terraform keeps each stack's state."""

    type: Literal["local", "s3"] = "local"
    bucket: (
        Annotated[
            Text, matches(re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"), "an S3 bucket name")
        ]
        | None
    ) = None
    region: Region | None = None
    key_prefix: Annotated[Text, matches(S3_KEY, "an S3 key prefix")] = "xrdeploy"
    use_lockfile: StrictBool = True

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> Backend:
        if self.type == "s3":
            missing = [f for f in ("bucket", "region") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"the s3 backend needs {' and '.join(missing)}")
        elif self.bucket is not None or self.region is not None:
            raise ValueError("bucket and region apply only to the s3 backend (type: s3)")
        return self


class App(Frozen):
    name: AppName
    source_object_key: Annotated[Text, matches(S3_KEY, "an S3 object key")] = "sample_app.zip"
    # Role that Terraform assumes in every stage account; absent = the caller's own credentials.
    deploy_role_name: Annotated[Text, matches(ROLE_NAME, "an IAM role name")] | None = None
    # Where the first stage's builds come from (xrdeploy.config.source); later stages always
    # receive them from their upstream stage, into their source bucket.
    source: Source = Source()


class Ssh(Frozen):
    cidr: Cidr
    key_pair: Annotated[Text, matches(KEY_PAIR_NAME, "an EC2 key pair name")]


class Rdp(Frozen):
    cidr: Cidr
    # The key pair that decrypts the instance's Administrator password (GetPasswordData).
    key_pair: Annotated[Text, matches(KEY_PAIR_NAME, "an EC2 key pair name")]


def _world(cidr: str | None) -> bool:
    return cidr is not None and ipaddress.ip_network(cidr).prefixlen == 0


class Fleet(Frozen):
    # The fleet's operating system; the revision's appspec must name the same one.
    os: Literal["linux", "windows"] = "linux"
    instance_count: Annotated[StrictInt, Field(ge=1, le=50)] = 1
    instance_type: Annotated[
        Text, matches(INSTANCE_TYPE, "an EC2 instance type such as t3.micro")
    ] = "t3.micro"
    # Value of the DeploymentStage tag that the CodeDeploy group selects instances by.
    tag_value: Annotated[Text, matches(TAG_VALUE, "a tag value")]
    http_ingress_cidr: Cidr
    ssh: Ssh | None = None
    # Opening SSH (RDP) to the whole internet must be asked for by name.
    allow_ssh_from_anywhere: StrictBool = False
    rdp: Rdp | None = None
    allow_rdp_from_anywhere: StrictBool = False

    @model_validator(mode="after")
    def _remote_access(self) -> Fleet:
        problems = []
        ssh, rdp = self.ssh, self.rdp
        if ssh is not None and self.os == "windows":
            problems.append("ssh: a Windows fleet has no SSH; use rdp")
        if rdp is not None and self.os == "linux":
            problems.append("rdp: applies only to os: windows; use ssh")
        if ssh is not None and _world(ssh.cidr) and not self.allow_ssh_from_anywhere:
            problems.append(
                f"ssh.cidr {ssh.cidr} opens SSH to the whole internet; use a narrower "
                "CIDR or set allow_ssh_from_anywhere: true"
            )
        if rdp is not None and _world(rdp.cidr) and not self.allow_rdp_from_anywhere:
            problems.append(
                f"rdp.cidr {rdp.cidr} opens RDP to the whole internet; use a narrower "
                "CIDR or set allow_rdp_from_anywhere: true"
            )
        if self.os == "windows" and is_graviton(self.instance_type):
            problems.append(
                f"instance_type: {self.instance_type} is a Graviton (arm64) type; "
                "Windows Server needs an x86_64 type such as t3.medium"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self


class Stage(Frozen):
    name: StageName
    account_id: AccountId
    region: Region
    # The stage this one follows; omitted: the previous stage in the list
    # (xrdeploy.config.topology).
    after: StageName | None = None
    fleet: Fleet
    deployment_config: Annotated[
        Text, matches(DEPLOYMENT_CONFIG, "a CodeDeploy deployment config name")
    ] = "CodeDeployDefault.AllAtOnce"
    gates: Gates = Gates()
    # Replaces the chain's `notifications` for this stage.
    notifications: Notifications | None = None


def _not_empty(stages: tuple[Stage, ...]) -> tuple[Stage, ...]:
    if not stages:
        raise ValueError("the chain is empty: list at least one stage")
    return stages


class ChainConfig(Frozen):
    app: App
    backend: Backend = Backend()
    layout: Literal["per-stage", "single"] = "per-stage"
    notifications: Notifications | None = None
    stages: Annotated[tuple[Stage, ...], AfterValidator(_not_empty)]

    @model_validator(mode="after")
    def _chain_rules(self) -> ChainConfig:

        problems: list[str] = []
        seen: dict[str, int] = {}
        for index, stage in enumerate(self.stages):
            if stage.name in seen:
                problems.append(
                    f"stages[{index}].name: {stage.name!r} is already the name of "
                    f"stages[{seen[stage.name]}]; stage names must be unique"
                )
            seen.setdefault(stage.name, index)
            for field, name, problem in Naming(self.app.name).problems(stage):
                problems.append(f"stages[{index}].{field}: {name!r} {problem}")
        if not problems:
            problems = self.topology.problems(self._declared_afters())
        if not problems:
            problems = self._leaf_rules() + self._one_os()
            problems += self.app.source.connection_problems(self.first_stage.account_id)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _declared_afters(self) -> list[tuple[bool, str | None]]:
        return [("after" in s.model_fields_set, s.after) for s in self.stages]

    def _leaf_rules(self) -> list[str]:
        return [
            f"stages[{index}].gates.manual_approval: {stage.name} promotes to no stage, so an "
            "approval before promotion has no effect"
            for index, stage in enumerate(self.stages)
            if stage.gates.manual_approval and not self.downstream_of(stage.name)
        ]

    def _one_os(self) -> list[str]:
        """The same revision is promoted through every stage, and its appspec names one OS."""
        first = self.stages[0].fleet.os
        return [
            f"stages[{index}].fleet.os: {stage.fleet.os}, but stages[0] runs {first}; every "
            "stage deploys the same revision, whose appspec names one os"
            for index, stage in enumerate(self.stages)
            if stage.fleet.os != first
        ]

    @property
    def fleet_os(self) -> str:
        """The OS every stage's fleet runs (one, see `_one_os`)."""
        return self.stages[0].fleet.os

    @property
    def first_stage(self) -> Stage:
        """The stage builds enter the chain at (the one that follows no stage)."""
        upstream = self.topology.upstream
        return self.stages[upstream.index(None)]

    @property
    def topology(self) -> Topology:
        return Topology.of([s.name for s in self.stages], self._declared_afters())

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage named {name!r} in the chain")

    def upstream_of(self, name: str) -> Stage | None:
        """The stage that promotes into `name`; None for the first stage."""
        topology = self.topology
        upstream = topology.upstream[topology.names.index(self.stage(name).name)]
        return self.stage(upstream) if upstream is not None else None

    def downstream_of(self, name: str) -> tuple[Stage, ...]:
        """The stages `name` promotes into, in list order: more than one is a wave."""
        return tuple(self.stage(n) for n in self.topology.downstream(self.stage(name).name))

    def waves(self) -> tuple[tuple[Stage, ...], ...]:
        """The stages grouped by their distance from the first stage."""
        return tuple(tuple(self.stage(n) for n in wave) for wave in self.topology.waves())

    def notifications_for(self, stage: Stage) -> Notifications | None:
        return stage.notifications if stage.notifications is not None else self.notifications


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("function-after") or part in {"str", "int", "bool"}:
            continue  # pydantic's names for validator layers, not config fields
        else:
            path += f".{part}" if path else part
    return path or "(top level)"


def _messages(exc: ValidationError) -> list[str]:
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        where = _location(tuple(error["loc"]))
        kind = error["type"]
        if kind == "extra_forbidden":
            lines.append(f"{where}: unknown key (check its spelling and indentation)")
            continue
        if kind == "missing":
            lines.append(f"{where}: required but missing")
            continue
        if kind in {"string_type", "int_type", "bool_type", "model_type", "tuple_type"}:
            expected = {
                "string_type": "a string (quote it in YAML)",
                "int_type": "a whole number",
                "bool_type": "true or false",
                "model_type": "a mapping of keys",
                "tuple_type": "a list",
            }[kind]
            lines.append(f"{where}: must be {expected}, not {error['input']!r}")
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        for line in message.splitlines():
            # Chain-level rules already name their own field.
            lines.append(line if line.startswith(("stages[", "app.")) else f"{where}: {line}")
    return lines


def parse_config(data: Any, source: str) -> ChainConfig:
    """Validate already-parsed YAML data; `source` names the file in error lines."""
    if data is None:
        raise ConfigError(f"{source}: the file is empty; it needs at least app and stages")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: the top level must be a mapping with app and stages, "
            f"not a {type(data).__name__}"
        )
    try:
        return ChainConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([f"{source}: {line}" for line in _messages(exc)]) from None


def load_config(path: Path | None) -> ChainConfig:
    """Read and validate a chain config; `None` loads the embedded default chain."""
    if path is None:
        text = resources.files("xrdeploy").joinpath(DEFAULT_CONFIG_NAME).read_text()
        source = f"(embedded {DEFAULT_CONFIG_NAME})"
    else:
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{source}: no such file") from None
        except IsADirectoryError:
            raise ConfigError(f"{source}: is a directory, not a config file") from None
        except PermissionError:
            raise ConfigError(f"{source}: cannot be read (permission denied)") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{source}: is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(f"{source}: not valid YAML{where}: {problem}") from None
    return parse_config(data, source)
