"""What a webhook call must satisfy to start its pipeline (pure): its authentication and filters.

* ``GITHUB_HMAC``: the body's HMAC with the ``SecretToken``, as GitHub sends it
  (``X-Hub-Signature-256: sha256=<hex>``, or the older ``X-Hub-Signature: sha1=<hex>``);
* ``IP``: the caller's address is in ``AllowedIPRange`` (CIDR);
* ``UNAUTHENTICATED``: any call.

Every filter's ``jsonPath`` must find a value in the JSON body; with ``matchEquals`` one of the
values must equal it, after ``{Name}`` is replaced by the target action's configuration
property ``Name`` (AWS's ``refs/heads/{Branch}``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from jsonpath_ng.ext.parser import parse

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def authentic(
    definition: Mapping[str, Any], body: bytes, headers: Mapping[str, str], address: str
) -> bool:
    kind = definition["authentication"]
    config = definition.get("authenticationConfiguration") or {}
    if kind == "UNAUTHENTICATED":
        return True
    if kind == "IP":
        try:
            return ipaddress.ip_address(address) in ipaddress.ip_network(config["AllowedIPRange"])
        except (KeyError, ValueError):
            return False
    secret = str(config.get("SecretToken", "")).encode()
    for header, algorithm in (("X-Hub-Signature-256", "sha256"), ("X-Hub-Signature", "sha1")):
        given = headers.get(header)
        if given:
            expected = f"{algorithm}=" + hmac.new(secret, body, algorithm).hexdigest()
            return hmac.compare_digest(given, expected)
    return False


def expected_value(match: str, configuration: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: configuration.get(m.group(1), m.group(0)), match)


def matches(filters: list[dict[str, str]], payload: Any, configuration: Mapping[str, str]) -> bool:
    for rule in filters:
        try:
            found = [match.value for match in parse(rule["jsonPath"]).find(payload)]
        except Exception:  # jsonpath_ng raises bare Exceptions for paths it cannot parse
            return False
        if not found:
            return False
        match = rule.get("matchEquals")
        if match is not None and expected_value(match, configuration) not in map(str, found):
            return False
    return True


def signature(secret: str, body: bytes) -> str:
    """``X-Hub-Signature-256`` of ``body`` as GitHub computes it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
