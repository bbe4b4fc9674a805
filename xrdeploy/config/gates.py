"""What holds a stage and who hears about it: `stages[].gates` and `notifications`.

Each gate maps to CodePipeline's own feature (see modules/pipeline.py): the bake and alarm gate
to the Deploy stage's on-success condition, the deployment window to its before-entry condition,
rollback on failure to its on-failure result. Nothing of ours runs in the account for them.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt, model_validator

from xrdeploy.config.fields import AlarmName, Frozen, Text

# A condition holds at most 5 rules (CodePipeline's RuleDeclarationList), one per alarm.
MAX_GATE_ALARMS = 5
# CodePipeline's cron: 6 fields (seconds minutes hours day-of-month month day-of-week) and an
# optional year, each made of the characters its rule reference allows.
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/#-]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HTTPS_URL = re.compile(r"^https://[^\s/]+(/\S*)?$")
SQS_ARN = re.compile(r"^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")
CHATBOT_ARN = re.compile(r"^arn:aws:chatbot::\d{12}:chat-configuration/[\w/.-]+$")
# Chatbot reads a topic through an HTTPS subscription to its one global endpoint.
CHATBOT_ENDPOINT = "https://global.sns-api.chatbot.amazonaws.com"


@cache
def _time_zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def _cron(value: str) -> str:
    fields = value.split()
    if len(fields) not in (6, 7) or not all(_CRON_FIELD.fullmatch(f) for f in fields):
        raise ValueError(
            f"{value!r} is not a CodePipeline cron expression: 6 fields (seconds minutes hours "
            "day-of-month month day-of-week) and an optional year, e.g. '0 0 9-16 ? * MON-FRI'"
        )
    return value


def _time_zone(value: str) -> str:
    if value not in _time_zones():
        raise ValueError(f"{value!r} is not an IANA time zone name (for example Europe/Berlin)")
    return value


class DeploymentWindow(Frozen):
    cron: Annotated[Text, AfterValidator(_cron)]
    time_zone: Annotated[Text, AfterValidator(_time_zone)] = "UTC"


class Gates(Frozen):
    manual_approval: StrictBool = False
    # CodeDeploy stops and rolls back a deployment while one of these is in ALARM.
    rollback_alarms: tuple[AlarmName, ...] = ()
    # After a successful deployment the stage waits this long, and promotes only if every alarm
    # below stayed OK; one in ALARM rolls the stage back instead.
    bake_minutes: Annotated[StrictInt, Field(ge=1, le=1440)] | None = None
    promote_when_alarms_ok: Annotated[tuple[AlarmName, ...], Field(max_length=MAX_GATE_ALARMS)] = ()
    deployment_window: DeploymentWindow | None = None
    rollback_on_failure: StrictBool = False

    @model_validator(mode="after")
    def _bake_watches_alarms(self) -> Gates:
        if self.bake_minutes is not None and not self.promote_when_alarms_ok:
            raise ValueError(
                "bake_minutes needs promote_when_alarms_ok: the bake is the time those alarms "
                "must stay OK"
            )
        if len(set(self.promote_when_alarms_ok)) != len(self.promote_when_alarms_ok):
            raise ValueError("promote_when_alarms_ok names an alarm twice")
        return self


class Subscriber(Frozen):
    protocol: Literal["email", "https", "sqs", "chatbot"]
    # An address, an HTTPS URL, an SQS queue ARN or an AWS Chatbot configuration ARN.
    endpoint: Text

    @model_validator(mode="after")
    def _endpoint_fits_protocol(self) -> Subscriber:
        rule, what = {
            "email": (EMAIL, "an email address"),
            "https": (HTTPS_URL, "an https:// URL"),
            "sqs": (SQS_ARN, "an SQS queue ARN (arn:aws:sqs:<region>:<account>:<queue>)"),
            "chatbot": (
                CHATBOT_ARN,
                "an AWS Chatbot configuration ARN "
                "(arn:aws:chatbot::<account>:chat-configuration/…)",
            ),
        }[self.protocol]
        if not rule.fullmatch(self.endpoint):
            raise ValueError(f"endpoint {self.endpoint!r} is not {what}")
        return self

    @property
    def sns_protocol(self) -> str:
        return "https" if self.protocol == "chatbot" else self.protocol

    @property
    def sns_endpoint(self) -> str:
        return CHATBOT_ENDPOINT if self.protocol == "chatbot" else self.endpoint


class Notifications(Frozen):
    """Pipeline failed or superseded, approval waiting, deployment failed or stopped: to an SNS
    topic per stage, and from it to these subscribers."""

    subscribers: tuple[Subscriber, ...] = ()
