"""Least privilege of a deployed chain, in necessity and in width, in the local cloud.

After a run of the chain with IAM enforced, this reads the requests the guard recorded
(``/_xrdeploy/permissions/requests``) and every policy the chain's Terraform created (role
policies, trust policies, bucket policies, key policies, function policies, read back through the
AWS APIs as the account roots), and replays the requests against each policy with one statement
(or one action of it) removed (:mod:`emulator.least_privilege`) and with each granted value
tightened to its recorded use (:mod:`emulator.least_privilege_width`). It prints the table that
docs/security-scan.md holds (``tools/least_privilege_table.py``): each statement, the chain step
that fails without it, and each value's width; then, on stderr, one line per finding (an
unexplained removal or width, a stale reason), and exits 1 if there is any.

    .venv/bin/python -m tools.least_privilege --endpoint http://127.0.0.1:4566 [--config c.yaml]

``tests/integration/chain/test_least_privilege.py`` runs the promotion, this replay, and a few
live mutated runs; ``XRDEPLOY_UPDATE_DOCS=1`` makes it write the table into the doc.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from emulator.least_privilege import NodeEvaluator, Replay, baseline, replay_removals
from emulator.least_privilege_width import WidthReplay, replay_width
from tools.least_privilege_table import Labels, markdown
from tools.least_privilege_verdicts import Generated, findings
from xrdeploy.aws_clients import AwsClients
from xrdeploy.config.model import ChainConfig, load_config
from xrdeploy.config.naming import Naming
from xrdeploy.config.target import DeployTarget

REQUESTS_PATH = "/_xrdeploy/permissions/requests"


ROLE_KINDS = {
    "copy_function_role": "copy function role",
    "promotion_role": "promotion role",
    "pipeline_role": "pipeline role",
    "events_role": "events role",
    "codedeploy_role": "CodeDeploy role",
    "instance_role": "instance role",
}


def fetch_record(endpoint: str, since: str | None = None) -> dict[str, Any]:
    """The guard's record; with ``since`` (``%Y-%m-%dT%H:%M:%SZ``, as the record writes time),
    only the requests last made from then on: a run's own, without emptying the ledger under
    other tests that read it."""
    with urllib.request.urlopen(endpoint.rstrip("/") + REQUESTS_PATH, timeout=30) as answer:
        record: dict[str, Any] = json.load(answer)
    if since is not None:
        record["requests"] = [r for r in record.get("requests") or [] if r["last"] >= since]
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
        buckets = [(names.artifact_bucket(stage), "artifact bucket")]
        if not (chain.app.source.is_git and chain.upstream_of(stage.name) is None):
            # (a Git-sourced first stage reads the repository: it has no source bucket)
            buckets.insert(0, (names.source_bucket(stage), "source bucket"))
        for bucket, kind in buckets:
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
    # Each policy knows its chain's app name and its stage's own account and region: a Width
    # names them as placeholders.
    where = {stage.name: (stage.account_id, stage.region) for stage in chain.stages}
    app = chain.app.name.replace(".", "-")  # as Naming writes it in resource names
    return [replace(g, account=where[g.stage][0], region=where[g.stage][1], app=app) for g in found]


def _role_policies(iam: Any, role: str, stage: str, kind: str) -> list[Generated]:
    found_role = _absent_as_none(iam.get_role, RoleName=role)
    if found_role is None:  # e.g. the first stage has no promotion role
        return []
    answer = found_role["Role"]
    arn = answer["Arn"]
    trust = answer["AssumeRolePolicyDocument"]
    found = [Generated(f"trust-policy:{arn}", stage, f"{kind} trust", trust)]
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


@dataclass(frozen=True)
class Proof:
    """Both replays of one record: each removal, and each granted value tightened."""

    removals: Replay
    width: WidthReplay


def replay_chain(record: dict[str, Any], generated: list[Generated]) -> Proof:
    """The replay of every recorded request against each mutation of each generated policy."""
    policies = {g.id: g.document for g in generated}
    evaluate = NodeEvaluator()
    base = baseline(record.get("requests") or [], policies, list(policies), evaluate)
    return Proof(replay_removals(base, evaluate), replay_width(base, evaluate))


def key_aliases(clients: AwsClients, chain: ChainConfig) -> dict[str, str]:
    names = Naming(chain.app.name)
    found: dict[str, str] = {}
    for stage in chain.stages:
        kms = clients.client("kms", stage.account_id, stage.region)
        alias = names.kms_alias(stage)
        found[kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"]] = alias
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.least_privilege", description=__doc__)
    parser.add_argument("--endpoint", required=True, help="the local cloud the chain ran in")
    parser.add_argument("--config", type=Path, default=None, help="default: the embedded chain")
    args = parser.parse_args(argv)
    chain = load_config(args.config)
    clients = AwsClients(DeployTarget(emulator_url=args.endpoint))
    generated = generated_policies(clients, chain)
    result = replay_chain(fetch_record(args.endpoint), generated)
    labels = Labels(generated, key_aliases(clients, chain))
    sys.stdout.write(markdown(result.removals, result.width, generated, labels))
    failed = findings(result.removals, result.width, generated)
    for line in failed:
        sys.stderr.write(f"least privilege: {line}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
