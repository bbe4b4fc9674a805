"""``python -m emulator up|serve|down|status|instances|permissions``: the local cloud as a service
on this host.

``up`` prints the endpoint and the exports that point boto3, the AWS CLI and Terraform at it.
Errors are one line on stderr with exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys

from emulator.gateway import call
from emulator.home import EmulatorError
from emulator.local_cloud import (
    RunningCloud,
    existing_endpoint,
    running_cloud,
    serve_local_cloud,
    start_local_cloud,
    stop_local_cloud,
)
from emulator.permissions import decision_lines, fetch_permissions

INSTANCES_PATH = "/_xrdeploy/instances"
NOTHING_LISTENING = "nothing listening on port 80 yet"


def _exports(cloud: RunningCloud) -> str:
    return "\n".join(
        [
            f"export AWS_ENDPOINT_URL={cloud.endpoint}",
            f"export LOCALSTACK_ENDPOINT={cloud.endpoint}",
            # A 12-digit access key id selects the account and acts as its root.
            "export AWS_ACCESS_KEY_ID=111111111111",
            "export AWS_SECRET_ACCESS_KEY=test",
            "export AWS_DEFAULT_REGION=us-west-2",
        ]
    )


def _up(args: argparse.Namespace) -> int:
    cloud = start_local_cloud(port=args.port)
    listed = call(cloud.endpoint, "GET", INSTANCES_PATH)
    reason = listed.get("unsupported_reason") if isinstance(listed, dict) else None
    if reason:
        # Before anything is deployed: every deployment to an EC2 instance would fail with it.
        sys.stderr.write(f"warning: local EC2 instances cannot run on this host: {reason}\n")
    if args.json:
        sys.stdout.write(json.dumps(cloud.__dict__) + "\n")
        return 0
    sys.stdout.write(
        f"local cloud running at {cloud.endpoint} (pid {cloud.pid}, log {cloud.log_path})\n"
        "point boto3, the AWS CLI and Terraform at it with:\n" + _exports(cloud) + "\n"
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    return serve_local_cloud(port=args.port)


def _down(_: argparse.Namespace) -> int:
    cloud = stop_local_cloud()
    sys.stdout.write(f"stopped the local cloud at {cloud.endpoint}\n" if cloud else "not running\n")
    return 0


def _status(args: argparse.Namespace) -> int:
    cloud = running_cloud()
    if args.json:
        sys.stdout.write(json.dumps(cloud.__dict__ if cloud else None) + "\n")
    elif cloud:
        sys.stdout.write(f"running at {cloud.endpoint} (pid {cloud.pid}, log {cloud.log_path})\n")
        sys.stdout.write("".join(line + "\n" for line in _instance_warnings(cloud.endpoint)))
    else:
        sys.stdout.write("not running (start it with: python -m emulator up)\n")
    return 0 if cloud else 3


def _instance_warnings(endpoint: str) -> list[str]:
    """One line per thing a local instance's set-up could not do (also in the cloud's log)."""
    listed = call(endpoint, "GET", INSTANCES_PATH)
    instances = listed.get("instances", []) if isinstance(listed, dict) else []
    return [
        f"warning: local instance {instance['instance_id']}: {warning}"
        for instance in instances
        for warning in instance.get("warnings", [])
    ]


def _instances(args: argparse.Namespace) -> int:
    endpoint = args.endpoint or (running_cloud() or _not_running()).endpoint
    listed = call(endpoint, "GET", INSTANCES_PATH)
    instances = listed.get("instances", []) if isinstance(listed, dict) else []
    if args.json:
        sys.stdout.write(json.dumps(instances) + "\n")
    for instance in [] if args.json else instances:
        page = instance["page_url"] if instance.get("listening") else NOTHING_LISTENING
        sys.stdout.write(
            "{instance_id} {account_id} {region} {state} ".format_map(instance) + page + "\n"
        )
        for warning in instance.get("warnings", []):
            sys.stdout.write(f"  warning: {warning}\n")
    return 0


def _permissions(args: argparse.Namespace) -> int:
    endpoint = args.endpoint or existing_endpoint() or _not_running().endpoint
    ledger = fetch_permissions(endpoint)
    text = json.dumps(ledger) if args.json else "\n".join(decision_lines(ledger))
    sys.stdout.write(text + "\n" if text else "")
    return 0


def _not_running() -> RunningCloud:
    raise EmulatorError("the local cloud is not running (start it with: python -m emulator up)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the local cloud and leave it running")
    up.add_argument("--port", type=int, default=None, help="loopback port (default: a free one)")
    up.add_argument("--json", action="store_true", help="print the running cloud as JSON")
    up.set_defaults(run=_up)
    serve = commands.add_parser(
        "serve", help="run the local cloud in the foreground until SIGTERM (containers)"
    )
    serve.add_argument("--port", type=int, default=4566, help="loopback port (default: 4566)")
    serve.set_defaults(run=_serve)
    commands.add_parser("down", help="stop the local cloud").set_defaults(run=_down)
    status = commands.add_parser("status", help="is it running, and where (exit 3: not running)")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=_status)
    instances = commands.add_parser("instances", help="local EC2 instances and their page URLs")
    instances.add_argument("--endpoint", default=None, help="default: the running local cloud")
    instances.add_argument("--json", action="store_true")
    instances.set_defaults(run=_instances)
    permissions = commands.add_parser(
        "permissions", help="the IAM permission ledger: each principal's decisions"
    )
    permissions.add_argument("--endpoint", default=None, help="default: the running local cloud")
    permissions.add_argument("--json", action="store_true", help="the ledger as served")
    permissions.set_defaults(run=_permissions)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except EmulatorError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
