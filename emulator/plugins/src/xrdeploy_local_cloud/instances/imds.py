"""The instance metadata service at ``http://169.254.169.254/`` inside the instance, IMDSv2 only.

As on an instance launched with ``http_tokens = "required"`` and ``instance_metadata_tags =
"enabled"`` (what the generated fleet sets): ``PUT /latest/api/token`` with
``X-aws-ec2-metadata-token-ttl-seconds`` (1-21600) returns a token; every ``GET`` needs it in
``X-aws-ec2-metadata-token`` and is answered 401 without a valid one. A ``PUT`` carrying
``X-Forwarded-For`` is refused (403), as AWS does to stop tokens from leaving through proxies.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOG = logging.getLogger(__name__)

TOKEN_PATH = "/latest/api/token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
MAX_TTL = 21600


def _tree(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata categories served, as nested dicts; leaves are str or a callable."""
    tags = {str(k): str(v) for k, v in dict(spec.get("tags") or {}).items()}
    ip = str(spec["private_ip"])
    meta: dict[str, Any] = {
        "ami-id": spec["image_id"],
        "hostname": spec["hostname"],
        "instance-id": spec["instance_id"],
        "instance-type": spec["instance_type"],
        "local-hostname": spec["hostname"],
        "local-ipv4": ip,
        "placement": {
            "availability-zone": spec["availability_zone"],
            "region": spec["region"],
        },
        "tags": {"instance": tags},
        "services": {"domain": "amazonaws.com", "partition": "aws"},
    }
    role = spec.get("iam_role_name")
    credentials = spec.get("credentials")
    if role and credentials:
        meta["iam"] = {
            "info": json.dumps(
                {
                    "Code": "Success",
                    "InstanceProfileArn": spec.get("instance_profile_arn", ""),
                    "InstanceProfileId": spec.get("instance_profile_id", ""),
                },
                indent=2,
            ),
            "security-credentials": {role: json.dumps(credentials, indent=2)},
        }
    document = {
        "accountId": spec["account_id"],
        "architecture": spec.get("architecture", "x86_64"),
        "availabilityZone": spec["availability_zone"],
        "imageId": spec["image_id"],
        "instanceId": spec["instance_id"],
        "instanceType": spec["instance_type"],
        "privateIp": ip,
        "region": spec["region"],
        "version": "2017-09-30",
    }
    return {
        "meta-data": meta,
        "dynamic": {"instance-identity": {"document": json.dumps(document, indent=2)}},
    }


def _lookup(tree: Mapping[str, Any], path: str) -> str | None:
    node: Any = tree
    for part in [p for p in path.split("/") if p]:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    if isinstance(node, Mapping):
        # A category lists its children; sub-categories end with "/", as in EC2.
        return "\n".join(f"{k}/" if isinstance(v, Mapping) else k for k, v in node.items())
    return str(node)


class _Tokens:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    def issue(self, ttl: int) -> str:
        token = secrets.token_urlsafe(40)
        with self._lock:
            now = time.monotonic()
            self._expiry = {t: e for t, e in self._expiry.items() if e > now}
            self._expiry[token] = now + ttl
        return token

    def valid(self, token: str | None) -> bool:
        with self._lock:
            return token is not None and self._expiry.get(token, 0.0) > time.monotonic()


class Metadata:
    """The categories served; replaced whole when the instance's spec changes (its tags, say),
    as EC2's metadata follows the instance."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._lock = threading.Lock()
        self._tree = _tree(spec)

    def lookup(self, path: str) -> str | None:
        with self._lock:
            return _lookup(self._tree, path)

    def update(self, spec: Mapping[str, Any]) -> None:
        tree = _tree(spec)
        with self._lock:
            self._tree = tree


def _follow(metadata: Metadata, channel: socket.socket) -> None:
    with channel.makefile("rb") as updates:
        for line in updates:
            metadata.update(json.loads(line))


def follow_updates(metadata: Metadata, channel: socket.socket) -> threading.Thread:
    """Apply each spec (one JSON object per line) the instance's daemon sends on ``channel``."""
    return threading.Thread(target=_follow, args=(metadata, channel), daemon=True)


def _handler(metadata: Metadata, tokens: _Tokens) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "EC2ws"
        sys_version = ""

        def _answer(self, status: int, body: str = "") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self) -> None:  # http.server's naming
            if self.path != TOKEN_PATH:
                return self._answer(404, "Not Found")
            if self.headers.get("X-Forwarded-For"):
                return self._answer(403, "Forbidden")
            try:
                ttl = int(self.headers.get(TTL_HEADER, ""))
            except ValueError:
                return self._answer(400, "Bad Request")
            if not 1 <= ttl <= MAX_TTL:
                return self._answer(400, "Bad Request")
            return self._answer(200, tokens.issue(ttl))

        def do_GET(self) -> None:
            if not tokens.valid(self.headers.get(TOKEN_HEADER)):
                return self._answer(401, "Unauthorized")
            path = self.path.split("?", 1)[0]
            if path in ("/", "/latest", "/latest/"):
                return self._answer(200, "dynamic\nmeta-data\n" if path != "/" else "latest\n")
            if not path.startswith("/latest/"):
                return self._answer(404, "Not Found")
            body = metadata.lookup(path[len("/latest/") :])
            return self._answer(404, "Not Found") if body is None else self._answer(200, body)

        def log_message(self, format: str, *args: Any) -> None:
            LOG.debug("imds: " + format, *args)

    return Handler


def server(address: str, metadata: Metadata) -> ThreadingHTTPServer:
    """Bound and listening; the caller runs ``serve_forever``."""
    httpd = ThreadingHTTPServer((address, 80), _handler(metadata, _Tokens()))
    httpd.daemon_threads = True
    return httpd
