"""The evaluation inputs the guard judged, kept so that they can be judged again later.

The least-privilege replay (``emulator/least_privilege.py``) removes one statement at a time from
the generated policies and re-evaluates these inputs. Each entry names its policies instead of
copying them: identity policies by principal and policy name (a managed policy by its ARN), the
resource policy by resource (``bucket-policy:<bucket>``, ``key-policy:<arn>``,
``function-policy:<arn>``, ``trust-policy:<role arn>``), the boundary by ARN, each with the
SHA-256 of the document the guard used; the documents are kept once each, by that digest.

``GET /_xrdeploy/permissions/requests`` (:mod:`.api`) answers::

    {"requests": [
       {"principal": "arn:aws:sts::111111111111:assumed-role/app-beta-promotion/copy",
        "principal_arn": "arn:aws:iam::111111111111:role/app-beta-promotion",
        "kind": "role",                          # role | user | service
        "action": "s3:PutObject", "resource": "arn:aws:s3:::bucket/key",
        "resource_account": "111111111111",
        "context": {"aws:SecureTransport": "true", ...},
        "identity": [{"id": "arn:aws:iam::111111111111:role/app-beta-promotion:inline:p",
                      "name": "inline:p", "sha256": "..."}],
        "boundary": [],
        "resource_policy": {"id": "bucket-policy:bucket", "name": "bucket-policy:bucket",
                            "sha256": "..."},   # or null
        "decision": "allowed",                   # allowed | denied | unchecked
        "count": 3, "first": "...Z", "last": "...Z"}],
     "documents": {"<sha256>": {<policy document>}}}

Identical inputs are kept once (with a count); the clock keys (``aws:CurrentTime``,
``aws:EpochTime``) and the session name do not make an input distinct, so the record grows with
the distinct (principal, action, resource, context, policies), not with the number of requests.
A service principal's ``sts:AssumeRole`` (CodePipeline assuming the pipeline role, say) is kept
too, with the role's trust policy, although :mod:`xrdeploy_local_cloud.guards.trust` judges it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from typing import Any

from xrdeploy_local_cloud.iam.checks import Check, NamedPolicy, Principal

# Keys whose value changes with every request and that no generated policy tests.
VOLATILE_KEYS = ("aws:CurrentTime", "aws:EpochTime")


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def policy_id(principal: Principal, policy: NamedPolicy) -> str:
    """Inline policies are the principal's own; a managed policy's name is its ARN already."""
    if policy.name.startswith("inline:"):
        return f"{principal.principal_arn}:{policy.name}"
    return policy.name


@dataclasses.dataclass(frozen=True)
class RequestInputs:
    """One evaluation's inputs, with its policies named (and their documents beside)."""

    fields: dict[str, Any]
    documents: dict[str, dict[str, Any]]

    def key(self) -> str:
        context = {k: v for k, v in self.fields["context"].items() if k not in VOLATILE_KEYS}
        stable = {**self.fields, "context": context, "principal": None}
        return json.dumps(stable, sort_keys=True, default=str)


def request_inputs(
    principal: Principal,
    check: Check,
    identity: list[NamedPolicy],
    boundary: list[NamedPolicy],
    context: dict[str, Any],
) -> RequestInputs:
    """The inputs of one check, as :func:`.simulation.simulation` gives them to the evaluator."""
    documents: dict[str, dict[str, Any]] = {}

    def ref(policy: NamedPolicy, id_: str) -> dict[str, str]:
        sha = digest(policy.document)
        documents[sha] = policy.document
        return {"id": id_, "name": policy.name, "sha256": sha}

    resource = check.resource_policy
    fields = {
        "principal": principal.arn,
        "principal_arn": principal.principal_arn,
        "kind": principal.kind,
        "action": check.action,
        "resource": check.resource,
        "resource_account": check.resource_account,
        "context": {**context, **check.context},
        "identity": [ref(p, policy_id(principal, p)) for p in identity],
        "boundary": [ref(p, p.name) for p in boundary],
        "resource_policy": ref(resource, resource.name) if resource is not None else None,
    }
    return RequestInputs(fields, documents)


@dataclasses.dataclass
class _Entry:
    fields: dict[str, Any]
    decision: str
    count: int = 0
    first: str = ""
    last: str = ""


class RequestLog:
    """Thread-safe; the distinct inputs (by key, then decision) and the documents they name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, _Entry]] = {}
        self._documents: dict[str, dict[str, Any]] = {}

    def record(self, inputs: RequestInputs, decision: str) -> None:
        now = _now()
        with self._lock:
            entry = self._entries.setdefault(inputs.key(), {}).setdefault(
                decision, _Entry(inputs.fields, decision, first=now)
            )
            entry.count += 1
            entry.last = now
            self._documents.update(inputs.documents)

    def bump(self, inputs: RequestInputs) -> bool:
        """Count one more of an input already recorded (its latest decision); False if new."""
        with self._lock:
            decisions = self._entries.get(inputs.key())
            if not decisions:
                return False
            entry = max(decisions.values(), key=lambda e: e.last)
            entry.count += 1
            entry.last = _now()
            return True

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": [
                    {
                        **entry.fields,
                        "decision": entry.decision,
                        "count": entry.count,
                        "first": entry.first,
                        "last": entry.last,
                    }
                    for decisions in self._entries.values()
                    for entry in decisions.values()
                ],
                "documents": dict(self._documents),
            }

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._documents.clear()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
