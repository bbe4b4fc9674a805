"""The permission ledger: per principal, every (action, resource) it was allowed or denied.

``GET /_xrdeploy/permissions`` (:mod:`.api`) answers::

    {"principals": [
       {"principal": "arn:aws:iam::111111111111:role/app-beta-promotion",   # aws:PrincipalArn
        "kind": "role",
        "sessions": ["arn:aws:sts::111111111111:assumed-role/app-beta-promotion/copy"],
        "decisions": [
          {"action": "s3:PutObject", "resource": "arn:aws:s3:::bucket/key",
           "decision": "allowed",            # allowed | denied | unchecked
           "reason": "",                      # for denials: AWS's "because ..." text
           "statements": [{"policy": "inline:promotion", "sid": "WriteBuild", "index": 2,
                           "effect": "Allow"}],
           "count": 3, "first": "...Z", "last": "...Z"}],
        "policies": [                        # the identity statements it holds (last seen)
          {"policy": "inline:promotion", "sid": "WriteBuild", "index": 2, "effect": "Allow",
           "actions": ["s3:PutObject"], "resources": ["arn:aws:s3:::bucket/key"]}]}],
     "evaluator": {"evaluations": 120, "mean_ms": 1.4, "max_ms": 30.2}}

``DELETE`` empties it, the recorded inputs too (``{"cleared": <number of decisions>}``).
``unchecked`` is a request the evaluator could not judge (an action or resource it does not know);
it was let through. The inputs of every evaluation, for a later replay against other policies, are
in :attr:`Ledger.requests` (:mod:`.recording`, ``GET /_xrdeploy/permissions/requests``).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from xrdeploy_local_cloud.iam.recording import RequestLog
from xrdeploy_local_cloud.iam.simulation import Statement


@dataclasses.dataclass
class _Decision:
    action: str
    resource: str
    decision: str
    reason: str
    statements: list[Statement]
    count: int = 0
    first: str = ""
    last: str = ""


@dataclasses.dataclass
class _PrincipalRecord:
    kind: str
    sessions: set[str] = dataclasses.field(default_factory=set)
    decisions: dict[tuple[str, str, str], _Decision] = dataclasses.field(default_factory=dict)
    policies: list[Statement] = dataclasses.field(default_factory=list)


class Ledger:
    """Thread-safe; one per LocalStack process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._principals: dict[str, _PrincipalRecord] = {}
        self.requests = RequestLog()

    def record(
        self,
        *,
        principal: str,
        kind: str,
        session: str,
        action: str,
        resource: str,
        decision: str,
        reason: str = "",
        statements: list[Statement] | None = None,
        policies: list[Statement] | None = None,
    ) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self._lock:
            record = self._principals.setdefault(principal, _PrincipalRecord(kind))
            record.sessions.add(session)
            if policies is not None:
                record.policies = policies
            entry = record.decisions.setdefault(
                (action, resource, decision),
                _Decision(action, resource, decision, reason, statements or [], first=now),
            )
            entry.count += 1
            entry.last = now
            entry.reason = reason
            entry.statements = statements or entry.statements

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "principal": principal,
                    "kind": record.kind,
                    "sessions": sorted(record.sessions),
                    "decisions": [dataclasses.asdict(entry) for entry in record.decisions.values()],
                    "policies": list(record.policies),
                }
                for principal, record in sorted(self._principals.items())
            ]

    def clear(self) -> int:
        with self._lock:
            count = sum(len(record.decisions) for record in self._principals.values())
            self._principals.clear()
        self.requests.clear()
        return count
