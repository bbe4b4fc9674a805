"""The building blocks of the config models: strict text fields with their rules, and the frozen
base model. Shared by `xrdeploy.config.model` and `xrdeploy.config.gates`."""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictStr

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


def matches(pattern: re.Pattern[str], rule: str) -> AfterValidator:
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
    matches(
        APP_NAME,
        "1-40 lowercase letters, digits, periods and hyphens, starting and "
        "ending with a letter or digit",
    ),
]
StageName = Annotated[
    Text,
    matches(STAGE_NAME, "2-20 lowercase letters, digits and hyphens, starting with a letter"),
]
AccountId = Annotated[
    Text, matches(ACCOUNT_ID, "an AWS account id is exactly 12 digits, quoted in YAML")
]
Region = Annotated[Text, AfterValidator(_region)]
Cidr = Annotated[Text, AfterValidator(_cidr)]
AlarmName = Annotated[Text, matches(ALARM_NAME, "a CloudWatch alarm name")]


class Frozen(BaseModel):
    """Immutable, with unknown keys refused: a typo in the config must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)
