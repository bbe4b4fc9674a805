"""LocalStack Extension ``xrdeploy-git``: Git's smart HTTP for the local cloud's repositories.

Requests under ``/_xrdeploy/git/`` (:mod:`.urls`) are answered by ``git http-backend`` run as a
CGI program, so a user clones, fetches and pushes with plain ``git``. A push to a connection's
host creates its repository if it does not exist yet (GitHub would need it created first);
a CodeCommit repository exists only once CreateRepository made it. After a push the references
it moved are told to :mod:`.pushes`.
"""

from __future__ import annotations

import os
import subprocess
from typing import Any

from localstack.extensions.api import Extension
from localstack.http import Request, Response, Router, route

from xrdeploy_local_cloud.git import pushes, repos, urls

EXTENSION_NAME = "xrdeploy-git"
_RECEIVE = "/git-receive-pack"


def _cgi_environment(request: Request, directory_root: str, path_info: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", repos.DEFAULT_PATH),
        "GIT_PROJECT_ROOT": directory_root,
        "GIT_HTTP_EXPORT_ALL": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": "/",
        "PATH_INFO": path_info,
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.query_string.decode(),
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "REMOTE_ADDR": request.remote_addr or "",
        "GATEWAY_INTERFACE": "CGI/1.1",
    }
    for header in ("Content-Encoding", "Git-Protocol"):
        if value := request.headers.get(header):
            env["HTTP_" + header.upper().replace("-", "_")] = value
    return env


def _response(output: bytes) -> Response:
    """A CGI program's output (header lines, a blank line, the body) as the gateway's answer."""
    ends = [i for i in (output.find(b"\r\n\r\n"), output.find(b"\n\n")) if i >= 0]
    end = min(ends, default=len(output))
    head = output[:end]
    body = output[end:].removeprefix(b"\r\n\r\n").removeprefix(b"\n\n")
    status, headers = 200, {}
    for line in head.decode(errors="replace").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            headers[name.strip()] = value.strip()
    return Response(body, status, headers=headers)


def _serve(request: Request, address: urls.RepositoryAddress, rest: str) -> Response:
    directory = address.directory(repos.root())
    body = request.get_data()
    env = _cgi_environment(request, str(directory.parent), f"/{directory.name}{rest}")
    done = subprocess.run(
        ["git", "http-backend"], input=body, capture_output=True, env=env, check=False
    )
    if done.returncode != 0 and not done.stdout:
        return Response(done.stderr, 500, mimetype="text/plain")
    return _response(done.stdout)


class GitApi:
    @route(urls.PREFIX + "/<path:path>", methods=["GET", "POST"])
    def serve(self, request: Request, path: str) -> Response:
        # ``path`` is the route's match; the repository is read from the whole request path.
        parsed = urls.parse(request.path)
        if parsed is None:
            return Response(b"Not a repository of the local cloud\n", 404, mimetype="text/plain")
        address, rest = parsed
        directory = address.directory(repos.root())
        receiving = rest == _RECEIVE or request.args.get("service") == "git-receive-pack"
        if not repos.exists(directory):
            if address.host == urls.CODECOMMIT or not receiving:
                return Response(b"Repository not found\n", 404, mimetype="text/plain")
            with repos.lock(directory):
                if not repos.exists(directory):
                    repos.init_bare(directory)
        if rest != _RECEIVE:
            return _serve(request, address, rest)
        with repos.lock(directory):
            before = repos.refs(directory)
            response = _serve(request, address, rest)
            moved = pushes.updates(before, repos.refs(directory))
        if moved:
            pushes.tell(pushes.PushEvent(address, directory, moved))
        return response


class GitExtension(Extension):
    """Registered in entry-point group ``localstack.extensions``."""

    name = EXTENSION_NAME

    def update_gateway_routes(self, router: Router[Any]) -> None:
        router.add(GitApi())
