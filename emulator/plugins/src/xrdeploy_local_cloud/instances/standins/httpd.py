"""``httpd`` stand-in: serves Apache's main ``DocumentRoot`` as static files on every ``Listen``.

Reads ``/etc/httpd/conf/httpd.conf`` and the files its ``Include``/``IncludeOptional``
directives name (relative to ``ServerRoot``), in Apache's order, so the last ``DocumentRoot``
wins as in Apache's main server. ``<VirtualHost>`` blocks, modules, access control and rewrites
are not interpreted. ``-DFOREGROUND`` runs in the foreground (how the unit starts it, with
``READY=1`` sent to ``NOTIFY_SOCKET``); without it the process detaches like ``httpd`` does;
``-t`` checks the config; ``-v`` prints the version.
"""

from __future__ import annotations

import functools
import glob
import os
import shlex
import signal
import socket
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


CONFIG = Path("/etc/httpd/conf/httpd.conf")
ACCESS_LOG = Path("/var/log/httpd/access_log")
VERSION = "Server version: Apache/2.4.62 (Amazon Linux) (xrdeploy local instance stand-in)"


class Config:
    def __init__(self) -> None:
        self.server_root = Path("/etc/httpd")
        self.listen: list[tuple[str, int]] = []
        self.document_root = Path("/var/www/html")
        self.index = ["index.html"]

    def read(self, path: Path, *, optional: bool = False) -> None:
        if not path.is_file():
            if optional:
                return
            raise OSError(f"Could not open configuration file {path}: No such file or directory")
        depth = 0
        for raw in path.read_text(errors="replace").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.lower().startswith("<virtualhost"):
                depth += 1
            elif line.lower().startswith("</virtualhost"):
                depth -= 1
            elif depth == 0:
                self._directive(shlex.split(line))

    def _directive(self, words: list[str]) -> None:
        name, arguments = words[0].lower(), words[1:]
        if not arguments:
            return
        if name == "serverroot":
            self.server_root = Path(arguments[0])
        elif name == "listen":
            host, _, port = arguments[0].rpartition(":")
            self.listen.append((host.strip("[]") or "0.0.0.0", int(port)))
        elif name == "documentroot":
            self.document_root = self._path(arguments[0])
        elif name == "directoryindex":
            self.index = arguments
        elif name in ("include", "includeoptional"):
            pattern = self._path(arguments[0])
            matches = sorted(Path(pattern.anchor).glob(str(pattern.relative_to(pattern.anchor))))
            if not matches and name == "include" and not glob.has_magic(str(pattern)):
                raise OSError(f"Could not open configuration file {pattern}")
            for match in matches:
                self.read(match, optional=True)

    def _path(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.server_root / path


def _handler(config: Config) -> Any:
    class Handler(SimpleHTTPRequestHandler):
        server_version = "Apache/2.4.62 (Amazon Linux)"
        sys_version = ""
        index_pages = tuple(config.index)

        def log_message(self, format: str, *args: Any) -> None:
            ACCESS_LOG.parent.mkdir(parents=True, exist_ok=True)
            with ACCESS_LOG.open("a") as log:
                log.write(
                    f"{self.address_string()} - - [{self.log_date_time_string()}] {format % args}\n"
                )

    return functools.partial(Handler, directory=str(config.document_root))


def _notify_ready() -> None:
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    target = "\0" + address[1:] if address.startswith("@") else address
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.sendto(b"READY=1\nSTATUS=Started, listening", target)


def serve(config: Config) -> None:
    if not config.document_root.is_dir():
        _err(f"AH00112: Warning: DocumentRoot [{config.document_root}] does not exist")
    handler = _handler(config)
    servers = [
        ThreadingHTTPServer(address, handler) for address in config.listen or [("0.0.0.0", 80)]
    ]
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    _notify_ready()
    servers[0].serve_forever()


def main(argv: list[str]) -> int:
    if "-v" in argv or "-V" in argv:
        _out(VERSION)
        return 0
    config = Config()
    try:
        config.read(CONFIG)
    except (OSError, ValueError) as error:
        _err(f"httpd: Syntax error: {error}")
        return 1
    if "-t" in argv:
        _out("Syntax OK")
        return 0
    if "-DFOREGROUND" not in argv and os.fork() != 0:
        return 0  # the parent returns, as httpd does when it detaches
    if "-DFOREGROUND" not in argv:
        os.setsid()
    try:
        serve(config)
    except OSError as error:
        _err(
            f"(98)Address already in use: AH00072: make_sock: could not bind: {error}"
            if error.errno == 98
            else f"httpd: {error}"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
