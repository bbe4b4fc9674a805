"""The chain config: YAML in, immutable validated objects out.

Everything the generator and the CLI know about a chain comes through `load_config`. Validation
happens here, once, and every problem becomes one line naming the file and the field.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from xrdeploy.errors import ConfigError

DEFAULT_CONFIG_NAME = "default_config.yaml"

# The blog's rule for AppName: up to 40 lowercase letters, digits, periods and hyphens. We also
# require a letter or digit at both ends, because the name starts and ends bucket names.
APP_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,38}[a-z0-9])?$")
# Stage names go into bucket, role and function names, so periods are left out (a period in a
# bucket name breaks virtual-hosted TLS) and the length is kept short.
STAGE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
# An IAM role name, as AWS defines it.
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
S3_KEY = re.compile(r"^[A-Za-z0-9!_.*'()/-]{1,1024}$")
DEPLOYMENT_CONFIG = re.compile(r"^[A-Za-z0-9_.+=,@-]{1,100}$")
KEY_PAIR_NAME = re.compile(r"^[\x20-\x7e]{1,255}$")
TAG_VALUE = re.compile(r"^[\w .:/=+@-]{1,256}$")
ALARM_NAME = re.compile(r"^[^\x00-\x1f]{1,255}$")


@cache
def aws_regions() -> frozenset[str]:
    """Region names of the commercial AWS partition, from botocore's own endpoint data."""
    from botocore.session import get_session  # imported here: botocore is slow to load

    session = get_session()
    return frozenset(session.get_available_regions("ec2", partition_name="aws"))


def _matches(pattern: re.Pattern[str], rule: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not valid: {rule}")
        return value

    return AfterValidator(check)


# Strings are strict (YAML's `111111111111` is an int, and silently turning it into a string
# would hide a leading-zero account id that YAML already lost); structure stays lax so lists
# become tuples.
Text = StrictStr


def _region(value: str) -> str:
    if value not in aws_regions():
        raise ValueError(f"{value!r} is not an AWS region name (for example us-east-1)")
    return value


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a CIDR block ({exc})") from None
    if network.version != 4:
        raise ValueError(f"{value!r} is IPv6; only IPv4 CIDR blocks are supported")
    return value


AppName = Annotated[
    Text,
    _matches(
        APP_NAME,
        "1-40 lowercase letters, digits, periods and hyphens, starting and "
        "ending with a letter or digit",
    ),
]
StageName = Annotated[
    Text,
    _matches(STAGE_NAME, "2-20 lowercase letters, digits and hyphens, starting with a letter"),
]
AccountId = Annotated[
    Text, _matches(ACCOUNT_ID, "an AWS account id is exactly 12 digits, quoted in YAML")
]
Region = Annotated[Text, AfterValidator(_region)]
Cidr = Annotated[Text, AfterValidator(_cidr)]


class Frozen(BaseModel):
    """Immutable, with unknown keys refused: a typo in the config must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Backend(Frozen):
    """Where Terraform keeps each stack's state."""

    type: Literal["local", "s3"] = "local"
    bucket: (
        Annotated[
            Text, _matches(re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"), "an S3 bucket name")
        ]
        | None
    ) = None
    region: Region | None = None
    key_prefix: Annotated[Text, _matches(S3_KEY, "an S3 key prefix")] = "xrdeploy"
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
    source_object_key: Annotated[Text, _matches(S3_KEY, "an S3 object key")] = "sample_app.zip"
    # Role that Terraform assumes in every stage account; absent = the caller's own credentials.
    deploy_role_name: Annotated[Text, _matches(ROLE_NAME, "an IAM role name")] | None = None


class Ssh(Frozen):
    cidr: Cidr
    key_pair: Annotated[Text, _matches(KEY_PAIR_NAME, "an EC2 key pair name")]


class Fleet(Frozen):
    instance_count: Annotated[StrictInt, Field(ge=1, le=50)] = 1
    instance_type: Annotated[
        Text, _matches(INSTANCE_TYPE, "an EC2 instance type such as t3.micro")
    ] = "t3.micro"
    # Value of the DeploymentStage tag that the CodeDeploy group selects instances by.
    tag_value: Annotated[Text, _matches(TAG_VALUE, "a tag value")]
    http_ingress_cidr: Cidr
    ssh: Ssh | None = None
    # Opening SSH to the whole internet must be asked for by name.
    allow_ssh_from_anywhere: StrictBool = False

    @model_validator(mode="after")
    def _ssh_not_open_to_world(self) -> Fleet:
        world = self.ssh is not None and ipaddress.ip_network(self.ssh.cidr).prefixlen == 0
        if world and not self.allow_ssh_from_anywhere:
            raise ValueError(
                f"ssh.cidr {self.ssh.cidr} opens SSH to the whole internet; use a narrower "  # type: ignore[union-attr]
                "CIDR or set allow_ssh_from_anywhere: true"
            )
        return self


class Gates(Frozen):
    manual_approval: StrictBool = False
    rollback_alarms: tuple[
        Annotated[Text, _matches(ALARM_NAME, "a CloudWatch alarm name")], ...
    ] = ()


class Stage(Frozen):
    name: StageName
    account_id: AccountId
    region: Region
    fleet: Fleet
    deployment_config: Annotated[
        Text, _matches(DEPLOYMENT_CONFIG, "a CodeDeploy deployment config name")
    ] = "CodeDeployDefault.AllAtOnce"
    gates: Gates = Gates()


def _not_empty(stages: tuple[Stage, ...]) -> tuple[Stage, ...]:
    if not stages:
        raise ValueError("the chain is empty: list at least one stage")
    return stages


class ChainConfig(Frozen):
    app: App
    backend: Backend = Backend()
    layout: Literal["per-stage", "single"] = "per-stage"
    stages: Annotated[tuple[Stage, ...], AfterValidator(_not_empty)]

    @model_validator(mode="after")
    def _chain_rules(self) -> ChainConfig:
        from xrdeploy.naming import Naming  # naming depends on these models

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
        last = self.stages[-1]
        if last.gates.manual_approval:
            problems.append(
                f"stages[{len(self.stages) - 1}].gates.manual_approval: the last stage "
                f"({last.name}) promotes nowhere, so an approval before promotion has no effect"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def next_stage(self, stage: Stage) -> Stage | None:
        index = self.stages.index(stage)
        return self.stages[index + 1] if index + 1 < len(self.stages) else None

    def previous_stage(self, stage: Stage) -> Stage | None:
        index = self.stages.index(stage)
        return self.stages[index - 1] if index > 0 else None


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
            lines.append(line if line.startswith("stages[") else f"{where}: {line}")
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
