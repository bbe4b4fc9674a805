"""What each stage's fleet serves: the sample app's page, read from each instance's URL."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

_FIELD = re.compile(r'<strong id="(?P<name>version|stage|region)">(?P<value>[^<]*)</strong>')
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Page:
    instance_id: str
    url: str
    version: str
    stage: str
    region: str
    error: str = ""


def read_page(instance_id: str, url: str, timeout: float = 5.0) -> Page:
    try:
        with _NO_PROXY.open(url, timeout=timeout) as response:
            html = response.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        return Page(instance_id, url, "", "", "", error=str(exc))
    fields = {m["name"]: m["value"] for m in _FIELD.finditer(html)}
    return Page(
        instance_id,
        url,
        fields.get("version", ""),
        fields.get("stage", ""),
        fields.get("region", ""),
    )


def instance_stage_tags(ec2: Any, app: str) -> dict[str, str]:
    """instance id → its `Stage` tag, for running instances of the chain `app` (its `App` tag:
    other chains may run stages of the same name in the same account and region)."""
    tags: dict[str, str] = {}
    paginator = ec2.get_paginator("describe_instances")
    filters = [
        {"Name": "instance-state-name", "Values": ["running"]},
        {"Name": "tag:App", "Values": [app]},
    ]
    for page in paginator.paginate(Filters=filters):
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                stage = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}.get("Stage")
                if stage:
                    tags[instance["InstanceId"]] = stage
    return tags
