"""Least privilege, statement by statement: replay recorded requests against mutated policies.

The IAM guard records the inputs of every evaluation it made (``GET
/_xrdeploy/permissions/requests``: principal, action, resource, context keys, and the policies by
name). :func:`replay` takes those requests and a policy set (policy id → document, the ids the
guard uses: ``<role arn>:inline:<name>``, ``bucket-policy:<bucket>``, ``key-policy:<key arn>``,
``trust-policy:<role arn>``, ``function-policy:<function arn>``, a managed policy's ARN), and for
each statement of each policy it is asked about removes the statement, and then, where the
statement lists several actions, each action in turn; it re-evaluates every recorded request that
names the policy with ``@cloud-copilot/iam-simulate`` (the guard's own evaluator,
``iam_evaluator/server.mjs``, run unmodified) and lists the requests whose answer changes: an
allowed request now denied is the place that needs the statement (for a Deny statement, a denied
request now allowed is the place it guards).

Both this replay and the width replay (:mod:`emulator.least_privilege_width`, each granted value
tightened to its recorded use) start from one :class:`Baseline`: the recorded requests as the
unmutated policies answer them, and which statements granted each.

Stdlib only, like :mod:`emulator.launcher`: the project's tools and tests run it on Python 3.11.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from emulator.home import EMULATOR_DIR, EmulatorError

EVALUATOR_DIR = EMULATOR_DIR / "iam_evaluator"
Evaluate = Callable[[Sequence[dict[str, Any]]], list[dict[str, Any]]]
Request = dict[str, Any]
Step = tuple[str, str, str]  # (principal ARN, action, resource): one step of the chain


@dataclasses.dataclass(frozen=True)
class Mutation:
    """One statement removed (``action`` None) or one action removed from a statement."""

    policy: str
    index: int  # 1-based, as IAM and iam-simulate count statements
    sid: str | None
    effect: str
    actions: tuple[str, ...]
    action: str | None = None

    @property
    def label(self) -> str:
        return self.sid or f"#{self.index}"


@dataclasses.dataclass(frozen=True)
class Outcome:
    mutation: Mutation
    # Allow: recorded allowed requests the mutation denies. Deny: denied requests it allows.
    changed: tuple[Step, ...]
    # For a mutation that changes nothing: the other statements that granted the requests this
    # statement granted too (empty: no recorded request used the statement at all).
    also_granted_by: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Replay:
    outcomes: tuple[Outcome, ...]
    requests: int  # recorded requests naming a replayed policy
    evaluations: int
    # Requests whose baseline answer differs from what the guard recorded (policies changed
    # since, or an evaluation the replay does not reproduce): the replay is void if any.
    disagreements: tuple[Step, ...]

    def for_policy(self, policy: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.mutation.policy == policy]


def step(request: Request) -> Step:
    return (str(request["principal_arn"]), str(request["action"]), str(request["resource"]))


def recorded_policies(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The policy set as the guard saw it: every policy a recorded request names, by id."""
    documents = record.get("documents") or {}
    found: dict[str, dict[str, Any]] = {}
    for request in record.get("requests") or []:
        for ref in _refs(request):
            if ref["sha256"] in documents:
                found[ref["id"]] = documents[ref["sha256"]]
    return found


def _refs(request: Request) -> list[dict[str, str]]:
    refs = list(request.get("identity") or []) + list(request.get("boundary") or [])
    if request.get("resource_policy"):
        refs.append(request["resource_policy"])
    return refs


def changed_documents(
    requests: Sequence[Request], policies: dict[str, dict[str, Any]]
) -> list[str]:
    """Policies whose document differs from the one the guard judged a recorded request by:
    the replay would mutate something other than what the run used."""
    return sorted(
        {
            ref["id"]
            for request in requests
            for ref in _refs(request)
            if ref["id"] in policies and ref["sha256"] != digest(policies[ref["id"]])
        }
    )


def digest(document: dict[str, Any]) -> str:
    """As the guard's record names documents (``xrdeploy_local_cloud.iam.recording.digest``)."""
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def names(request: Request) -> set[str]:
    return {ref["id"] for ref in _refs(request)}


def simulation(request: Request, policies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The iam-simulate input of a recorded request under the given policy set (the shape of
    ``xrdeploy_local_cloud.iam.simulation.simulation``). A policy missing from the set takes no
    part; one left with no statement still does: a trust or key policy with no statement admits
    no one, which is not the same as a role or key without one."""

    def named(refs: list[dict[str, str]]) -> list[dict[str, Any]]:
        return [
            {"name": ref["name"], "policy": policies[ref["id"]]}
            for ref in refs
            if ref["id"] in policies
        ]

    result: dict[str, Any] = {
        "request": {
            "principal": request["principal"],
            "action": request["action"],
            "resource": {
                "resource": request["resource"],
                "accountId": request["resource_account"],
            },
            "contextVariables": request.get("context") or {},
        },
        "identityPolicies": named(request.get("identity") or []),
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }
    if request.get("boundary"):
        result["permissionBoundaryPolicies"] = named(request["boundary"])
    resource_ref = request.get("resource_policy")
    if resource_ref and resource_ref["id"] in policies:
        result["resourcePolicy"] = policies[resource_ref["id"]]
    return result


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement") or []
    return [statements] if isinstance(statements, dict) else list(statements)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def mutations(policy: str, document: dict[str, Any]) -> list[Mutation]:
    """Each statement removed, then each action of a statement with several."""
    found: list[Mutation] = []
    for index, statement in enumerate(_statements(document), start=1):
        actions = tuple(_listed(statement.get("Action")))
        base = Mutation(policy, index, statement.get("Sid") or None, statement["Effect"], actions)
        found.append(base)
        if len(actions) > 1:
            found += [dataclasses.replace(base, action=action) for action in actions]
    return found


def mutated(document: dict[str, Any], mutation: Mutation) -> dict[str, Any]:
    result = copy.deepcopy(document)
    statements = _statements(result)
    if mutation.action is None:
        del statements[mutation.index - 1]
    else:
        statement = statements[mutation.index - 1]
        statement["Action"] = [a for a in _listed(statement["Action"]) if a != mutation.action]
    result["Statement"] = statements
    return result


def allowed_answer(answer: dict[str, Any]) -> bool | None:
    """None when the evaluator could not judge the request (recorded as ``unchecked``)."""
    return None if "error" in answer else answer.get("result") == "Allowed"


def _grants(request: Request, answer: dict[str, Any]) -> frozenset[tuple[str, int]]:
    """The (policy id, statement index) pairs that granted a request."""
    by_name = {ref["name"]: ref["id"] for ref in _refs(request) if ref is not None}
    resource = (request.get("resource_policy") or {}).get("id")
    found: set[tuple[str, int]] = set()
    for grant in answer.get("grants") or []:
        if grant.get("policyType") == "resource":
            policy = resource
        else:
            policy = by_name.get(str(grant.get("policyIdentifier")))
        if policy is not None and isinstance(grant.get("statementIndex"), int):
            found.add((policy, grant["statementIndex"]))
    return frozenset(found)


@dataclasses.dataclass(frozen=True)
class Baseline:
    """The recorded requests that name a replayed policy, as the unmutated policies answer them."""

    policies: dict[str, dict[str, Any]]
    replayed: tuple[str, ...]
    relevant: tuple[Request, ...]
    allowed: tuple[bool | None, ...]
    grants: tuple[frozenset[tuple[str, int]], ...]  # per request: the statements that granted it
    # Requests whose baseline answer differs from what the guard recorded: the replay is void.
    disagreements: tuple[Step, ...]

    def granted_by(self, policy: str, index: int) -> list[Request]:
        """The recorded requests a statement granted (1-based index, as iam-simulate counts)."""
        return [r for r, g in zip(self.relevant, self.grants, strict=True) if (policy, index) in g]


def baseline(
    requests: Sequence[Request],
    policies: dict[str, dict[str, Any]],
    replayed: Iterable[str],
    evaluate: Evaluate,
) -> Baseline:
    chosen = tuple(policy for policy in replayed if policy in policies)
    relevant = tuple(r for r in requests if names(r) & set(chosen))
    answers = evaluate([simulation(r, policies) for r in relevant])
    allowed = tuple(allowed_answer(answer) for answer in answers)
    disagreements = tuple(
        step(r)
        for r, verdict in zip(relevant, allowed, strict=True)
        if verdict is not None
        and r.get("decision") in ("allowed", "denied")
        and verdict != (r["decision"] == "allowed")
    )
    grants = tuple(_grants(r, answer) for r, answer in zip(relevant, answers, strict=True))
    return Baseline(policies, chosen, relevant, allowed, grants, disagreements)


def changed_answers(
    base: Baseline,
    edits: Sequence[tuple[str, dict[str, Any], bool]],
    evaluate: Evaluate,
) -> tuple[list[set[Step]], int]:
    """For each edit (policy id, its changed document, the answer it could change: True for a
    narrowed Allow, False for a removed Deny), the recorded requests whose answer changes; and
    how many evaluations that took."""
    jobs: list[tuple[int, int]] = []
    simulations: list[dict[str, Any]] = []
    for number, (policy, document, wanted) in enumerate(edits):
        changed_set = {**base.policies, policy: document}
        for request_number, request in enumerate(base.relevant):
            if policy in names(request) and base.allowed[request_number] is wanted:
                jobs.append((number, request_number))
                simulations.append(simulation(request, changed_set))
    changed: list[set[Step]] = [set() for _ in edits]
    for (number, request_number), answer in zip(jobs, evaluate(simulations), strict=True):
        verdict = allowed_answer(answer)
        if verdict is not None and verdict != base.allowed[request_number]:
            changed[number].add(step(base.relevant[request_number]))
    return changed, len(simulations)


def replay(
    requests: Sequence[Request],
    policies: dict[str, dict[str, Any]],
    replayed: Iterable[str],
    evaluate: Evaluate,
) -> Replay:
    """Every mutation of every policy in ``replayed`` (ids in ``policies``), judged against the
    recorded requests that name it."""
    return replay_removals(baseline(requests, policies, replayed, evaluate), evaluate)


def replay_removals(base: Baseline, evaluate: Evaluate) -> Replay:
    removals = [
        mutation
        for policy in base.replayed
        for mutation in mutations(policy, base.policies[policy])
    ]
    edits = [(m.policy, mutated(base.policies[m.policy], m), m.effect == "Allow") for m in removals]
    changed, evaluations = changed_answers(base, edits, evaluate)
    outcomes = [
        Outcome(
            mutation,
            tuple(sorted(steps)),
            () if steps else _others(mutation, base.relevant, base.grants),
        )
        for mutation, steps in zip(removals, changed, strict=True)
    ]
    return Replay(
        tuple(outcomes), len(base.relevant), len(base.relevant) + evaluations, base.disagreements
    )


def _others(
    mutation: Mutation, requests: Sequence[Request], grants: Sequence[frozenset[tuple[str, int]]]
) -> tuple[str, ...]:
    """Statements that also granted what this one granted, as ``<policy id>#<index>``."""
    own = (mutation.policy, mutation.index)
    found = {
        f"{policy}#{index}"
        for request, granted in zip(requests, grants, strict=True)
        if own in granted and (mutation.action is None or mutation.action == request["action"])
        for policy, index in granted - {own}
    }
    return tuple(sorted(found))


# How many simulations may wait in the evaluator at once (see _exchange).
IN_FLIGHT = 64


class NodeEvaluator:
    """``iam_evaluator/server.mjs`` for a batch: one process, lines in, answers in order."""

    def __init__(self, directory: Path = EVALUATOR_DIR, node: str | None = None) -> None:
        node = node or shutil.which("node")
        if node is None:
            raise EmulatorError("no node on PATH: the IAM evaluator needs Node.js")
        if not (directory / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
            raise EmulatorError(f"run `npm ci` in {directory}: its node_modules are missing")
        self._command = [node, str(directory / "server.mjs")]
        self._directory = directory

    def __call__(self, simulations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        if not simulations:
            return []
        # Node's own complaints go to a file, read back only when it fails (a pipe nobody
        # drains while the answers are read would block it).
        with tempfile.TemporaryFile("w+") as stderr:
            process = subprocess.Popen(
                self._command,
                cwd=self._directory,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
            answers, failure = _exchange(process, simulations)
            code = process.wait()
            if code != 0 or len(answers) != len(simulations):
                stderr.seek(0)
                said = " ".join(stderr.read().split()[-60:]) or "nothing on stderr"
                raise EmulatorError(
                    f"IAM evaluator stopped (exit {code}) after {len(answers)} of"
                    f" {len(simulations)} answers: {said}"
                    + (f"; writing to it failed: {failure!r}" if failure else "")
                )
        if [a.get("id") for a in answers] != list(range(len(simulations))):
            raise EmulatorError("IAM evaluator answered out of order")
        return answers


def _exchange(
    process: subprocess.Popen[str], simulations: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], BaseException | None]:
    """Every simulation written to the evaluator while its answers are read back; the answers,
    and what stopped the writing, if anything did."""
    assert process.stdin is not None and process.stdout is not None
    stdin = process.stdin
    failures: list[BaseException] = []
    # At most IN_FLIGHT requests wait in the evaluator: written all at once, a replay's thousands
    # of simulations (policies included) would all sit in Node's memory until answered.
    room = threading.Semaphore(IN_FLIGHT)

    def feed() -> None:  # a writer thread: answers fill stdout while requests still go in
        try:
            with stdin:
                for number, item in enumerate(simulations):
                    room.acquire()
                    stdin.write(json.dumps({"id": number, "simulation": item}) + "\n")
                    stdin.flush()
        except BaseException as failure:  # reported by the caller
            failures.append(failure)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    answers = []
    for line in process.stdout:
        answers.append(json.loads(line))
        room.release()
    room.release(len(simulations))  # the evaluator is gone: nothing waits for room any more
    writer.join()
    return answers, failures[0] if failures else None
