"""Least privilege of a deployed chain, statement by statement, in the local cloud.

After a run of the chain with IAM enforced, this reads the requests the guard recorded
(``/_xrdeploy/permissions/requests``) and every policy the chain's Terraform created (role
policies, trust policies, bucket policies, key policies, function policies, read back through the
AWS APIs as the account roots), replays the requests against each policy with one statement (or
one action of it) removed (:mod:`emulator.least_privilege`), and prints the table that
docs/security-scan.md holds: each statement, and the chain step that fails without it.

    .venv/bin/python -m tools.least_privilege --endpoint http://127.0.0.1:4566 [--config c.yaml]

``tests/integration/chain/test_least_privilege.py`` runs the promotion, this replay, and a few
live mutated runs; ``XRDEPLOY_UPDATE_DOCS=1`` makes it write the table into the doc.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from emulator.least_privilege import NodeEvaluator, Outcome, Replay, Step, replay
from tools.least_privilege_reasons import AWS_NEEDS, CATEGORIES, Key, Reason
from xrdeploy.aws_clients import AwsClients
from xrdeploy.config.model import ChainConfig, load_config
from xrdeploy.config.naming import Naming
from xrdeploy.config.target import DeployTarget

REQUESTS_PATH = "/_xrdeploy/permissions/requests"
DOC = Path(__file__).resolve().parents[1] / "docs" / "security-scan.md"
BEGIN, END = "<!-- least-privilege:begin -->", "<!-- least-privilege:end -->"


@dataclass(frozen=True)
class Generated:
    """One policy the chain's Terraform created: its guard id, stage, kind and document."""

    id: str
    stage: str
    kind: str  # "pipeline role", "pipeline role trust", "source bucket", "key", ...
    document: dict[str, Any]


ROLE_KINDS = {
    "copy_function_role": "copy function role",
    "promotion_role": "promotion role",
    "pipeline_role": "pipeline role",
    "events_role": "events role",
    "codedeploy_role": "CodeDeploy role",
    "instance_role": "instance role",
}


def fetch_record(endpoint: str) -> dict[str, Any]:
    with urllib.request.urlopen(endpoint.rstrip("/") + REQUESTS_PATH, timeout=30) as answer:
        record: dict[str, Any] = json.load(answer)
    return record


def generated_policies(clients: AwsClients, chain: ChainConfig) -> list[Generated]:
    """Every identity and resource policy of every stage, as the AWS APIs return it."""
    names = Naming(chain.app.name)
    found: list[Generated] = []
    for stage in chain.stages:
        iam = clients.client("iam", stage.account_id, stage.region)
        for method, kind in ROLE_KINDS.items():
            found += _role_policies(iam, getattr(names, method)(stage), stage.name, kind)
        s3 = clients.client("s3", stage.account_id, stage.region)
        for bucket, kind in (
            (names.source_bucket(stage), "source bucket"),
            (names.artifact_bucket(stage), "artifact bucket"),
        ):
            answer = _absent_as_none(s3.get_bucket_policy, Bucket=bucket)
            if answer is not None:
                document = _json(answer["Policy"])
                found.append(Generated(f"bucket-policy:{bucket}", stage.name, kind, document))
        kms = clients.client("kms", stage.account_id, stage.region)
        key_arn = kms.describe_key(KeyId=names.kms_alias(stage))["KeyMetadata"]["Arn"]
        key_policy = kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
        found.append(Generated(f"key-policy:{key_arn}", stage.name, "key", _json(key_policy)))
        lambda_ = clients.client("lambda", stage.account_id, stage.region)
        function = names.function_arn(stage)
        answer = _absent_as_none(lambda_.get_policy, FunctionName=function)
        if answer is not None:
            document = {"Version": "2012-10-17", "Statement": _json(answer["Policy"])["Statement"]}
            found.append(Generated(f"function-policy:{function}", stage.name, "function", document))
    return found


def _role_policies(iam: Any, role: str, stage: str, kind: str) -> list[Generated]:
    found_role = _absent_as_none(iam.get_role, RoleName=role)
    if found_role is None:  # e.g. the first stage has no promotion role
        return []
    answer = found_role["Role"]
    arn = answer["Arn"]
    found = [
        Generated(f"trust-policy:{arn}", stage, f"{kind} trust", answer["AssumeRolePolicyDocument"])
    ]
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        found.append(Generated(f"{arn}:inline:{name}", stage, kind, _json(document)))
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"]
        )["PolicyVersion"]
        found.append(Generated(policy["Arn"], stage, kind, _json(version["Document"])))
    return found


def _json(value: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(value) if isinstance(value, str) else value
    return document


def _absent_as_none(call: Any, **arguments: Any) -> Any:
    """The API's answer, or None where AWS says the thing (role, policy) does not exist."""
    try:
        return call(**arguments)
    except ClientError as e:
        code = e.response["Error"]["Code"]
        if code in ("NoSuchEntity", "NoSuchBucketPolicy", "ResourceNotFoundException"):
            return None
        raise


def replay_chain(record: dict[str, Any], generated: list[Generated]) -> Replay:
    """The replay of every recorded request against each mutation of each generated policy."""
    policies = {g.id: g.document for g in generated}
    return replay(record.get("requests") or [], policies, list(policies), NodeEvaluator())


def key_of(generated: Generated, outcome: Outcome) -> Key:
    return (generated.stage, generated.kind, outcome.mutation.label, outcome.mutation.action)


def reason_for(key: Key) -> Reason | None:
    """The entry for a mutation: its own, the stage-independent one, or (for one action) the
    entry of its whole statement."""
    stage, kind, statement, action = key
    for where in (stage, "*"):
        for removed in dict.fromkeys((action, None)):
            if (where, kind, statement, removed) in AWS_NEEDS:
                return AWS_NEEDS[(where, kind, statement, removed)]
    return None


def unexplained(result: Replay, generated: list[Generated]) -> list[Key]:
    """Mutations no recorded request notices and AWS_NEEDS does not explain."""
    return [
        key_of(policy, outcome)
        for policy in generated
        for outcome in result.for_policy(policy.id)
        if not outcome.changed and reason_for(key_of(policy, outcome)) is None
    ]


def stale_reasons(result: Replay, generated: list[Generated]) -> list[Key]:
    """AWS_NEEDS entries for statements the replay shows to be needed, or that no longer exist."""
    quiet = {
        candidate
        for policy in generated
        for outcome in result.for_policy(policy.id)
        if not outcome.changed
        for candidate in (key_of(policy, outcome), ("*", *key_of(policy, outcome)[1:]))
    }
    return [key for key in AWS_NEEDS if key not in quiet]


class Labels:
    """Short names for the table: roles by stage and kind, keys by alias, random names as *."""

    def __init__(self, generated: list[Generated], key_aliases: dict[str, str]) -> None:
        self._roles = {
            g.id.removeprefix("trust-policy:"): f"{g.stage} {g.kind.removesuffix(' trust')}"
            for g in generated
            if g.id.startswith("trust-policy:")
        }
        self._keys = key_aliases

    def step(self, step: Step) -> str:
        principal, action, resource = step
        return f"{self._roles.get(principal, principal)}: `{action}` on `{self.resource(resource)}`"

    def resource(self, resource: str) -> str:
        if resource in self._keys:
            return f"key {self._keys[resource]}"
        if resource in self._roles:
            return f"role {self._roles[resource]}"
        # Artifact objects carry a random name per execution; log streams a random id.
        resource = re.sub(r"^(arn:aws:s3:::[^/]+-art-[^/]+/[^/]+/[^/]+/)[^/]+$", r"\1*", resource)
        return re.sub(r":log-stream:.*$", ":log-stream:*", resource)


def key_aliases(clients: AwsClients, chain: ChainConfig) -> dict[str, str]:
    names = Naming(chain.app.name)
    found: dict[str, str] = {}
    for stage in chain.stages:
        kms = clients.client("kms", stage.account_id, stage.region)
        alias = names.kms_alias(stage)
        found[kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"]] = alias
    return found


MAX_STEPS = 4


def markdown(result: Replay, generated: list[Generated], labels: Labels) -> str:
    """One table per stage: every statement and action removed, and what fails without it."""
    kinds = {g.id: g.kind for g in generated}
    lines = [
        f"Replayed {result.requests} recorded requests against {len(result.outcomes)} mutations "
        f"({result.evaluations} evaluations).",
    ]
    for stage in dict.fromkeys(g.stage for g in generated):
        lines += [
            "",
            f"#### {stage}",
            "",
            "| policy | statement | removed | fails without it |",
            "|---|---|---|---|",
        ]
        for policy in (g for g in generated if g.stage == stage):
            for outcome in result.for_policy(policy.id):
                lines.append(_row(policy, outcome, labels, kinds))
    lines += ["", 'Categories of "nothing":', ""]
    lines += [f"- *{name}*: {meaning}" for name, meaning in CATEGORIES.items()]
    lines += ["", "#### Reported for removal (nothing needs them)", ""]
    reported = unneeded(result, generated)
    for (kind, what, why), stages in reported.items():
        lines.append(f"- {kind}, {what} ({', '.join(stages)}): {why}")
    if not reported:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _row(policy: Generated, outcome: Outcome, labels: Labels, kinds: dict[str, str]) -> str:
    mutation = outcome.mutation
    removed = f"`{mutation.action}`" if mutation.action else f"statement ({mutation.effect})"
    if outcome.changed:
        shown = sorted({labels.step(step) for step in outcome.changed})
        more = len(shown) - MAX_STEPS
        cell = "<br>".join(shown[:MAX_STEPS]) + (f"<br>… and {more} more" if more > 0 else "")
    else:
        cell = "**nothing** " + _why(policy, outcome)
        if outcome.also_granted_by:
            others = ", ".join(sorted({_grant(grant, kinds) for grant in outcome.also_granted_by}))
            cell += f"; also granted by {others}"
    return f"| {policy.kind} | {mutation.label} | {removed} | {cell} |"


def _why(policy: Generated, outcome: Outcome) -> str:
    key = key_of(policy, outcome)
    reason = reason_for(key)
    if reason is None:
        return "(unexplained)"
    own = reason_for((key[0], key[1], key[2], None)) != reason or key[3] is None
    return f"({reason[0]}): {reason[1]}" if own else f"({reason[0]}, as the statement)"


def _grant(grant: str, kinds: dict[str, str]) -> str:
    policy, _, index = grant.rpartition("#")
    return f"{kinds.get(policy, policy)} #{index}"


def unneeded(result: Replay, generated: list[Generated]) -> dict[tuple[str, str, str], list[str]]:
    """What is reported for removal from the generator: (policy kind, what, why) → stages. An
    action is listed only where its statement as a whole is not."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for policy in generated:
        for outcome in result.for_policy(policy.id):
            stage, kind, statement, action = key_of(policy, outcome)
            reason = reason_for((stage, kind, statement, action))
            whole = reason_for((stage, kind, statement, None))
            if outcome.changed or reason is None or reason[0] != "unneeded":
                continue
            if action is not None and whole == reason:
                continue
            what = f"`{action}` of {statement}" if action else statement
            found.setdefault((kind, what, reason[1]), []).append(stage)
    return found


def write_doc(table: str, doc: Path = DOC) -> None:
    """Replace the generated section of the doc (between BEGIN and END)."""
    text = doc.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    doc.write_text(text[:start] + "\n" + table + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.least_privilege", description=__doc__)
    parser.add_argument("--endpoint", required=True, help="the local cloud the chain ran in")
    parser.add_argument("--config", type=Path, default=None, help="default: the embedded chain")
    args = parser.parse_args(argv)
    chain = load_config(args.config)
    clients = AwsClients(DeployTarget(emulator_url=args.endpoint))
    generated = generated_policies(clients, chain)
    result = replay_chain(fetch_record(args.endpoint), generated)
    sys.stdout.write(markdown(result, generated, Labels(generated, key_aliases(clients, chain))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
