"""``dnf``/``yum`` stand-in: a local instance has no package repositories, so packages come from a
small catalogue (today ``httpd``, which installs the ``httpd`` stand-in with Amazon Linux's file
layout and unit). A package the host already provides as a command (``curl``, ``jq``, ...) is
"already installed"; anything else fails as dnf does for an unknown package. Installed packages
are recorded in :data:`DATABASE` (``dnf list installed`` reads it).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from xrdeploy_local_cloud.instances.standins import write_wrapper

DATABASE = Path("/var/lib/xrdeploy-standins/dnf/installed.json")
ARCH = "x86_64"
HTTPD_VERSION = "2.4.62-1.amzn2023"
HTTPD_UNIT = """[Unit]
Description=The Apache HTTP Server (stand-in of the xrdeploy local instance)
After=network.target remote-fs.target nss-lookup.target

[Service]
Type=notify
Environment=LANG=C
ExecStart=/usr/sbin/httpd $OPTIONS -DFOREGROUND
ExecReload=/usr/sbin/httpd $OPTIONS -k graceful

[Install]
WantedBy=multi-user.target
"""
HTTPD_CONF = """# The xrdeploy local instance's httpd stand-in reads ServerRoot, Listen,
# DocumentRoot, DirectoryIndex and Include/IncludeOptional, and accepts other directives.
ServerRoot "/etc/httpd"
Listen 80
User apache
Group apache
DocumentRoot "/var/www/html"
DirectoryIndex index.html
ErrorLog "logs/error_log"
IncludeOptional conf.d/*.conf
"""


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _install_httpd() -> None:
    write_wrapper(Path("/usr/sbin/httpd"), "httpd", "httpd", sys.executable)
    unit = Path("/usr/lib/systemd/system/httpd.service")
    unit.parent.mkdir(parents=True, exist_ok=True)
    unit.write_text(HTTPD_UNIT)
    for directory in ("/etc/httpd/conf.d", "/var/www/html", "/var/log/httpd", "/run/httpd"):
        Path(directory).mkdir(parents=True, exist_ok=True)
    conf = Path("/etc/httpd/conf/httpd.conf")
    conf.parent.mkdir(parents=True, exist_ok=True)
    if not conf.exists():  # a config file the admin changed survives a reinstall, as with rpm
        conf.write_text(HTTPD_CONF)
    logs = Path("/etc/httpd/logs")
    if not logs.is_symlink():
        logs.symlink_to("/var/log/httpd")


CATALOGUE: dict[str, tuple[str, Callable[[], None]]] = {"httpd": (HTTPD_VERSION, _install_httpd)}
_IGNORED_PREFIXES = ("--setopt", "--enablerepo", "--disablerepo", "--releasever", "--exclude")
_IGNORED = ("-y", "--assumeyes", "-q", "--quiet", "-C", "--cacheonly", "--nogpgcheck", "--best")


def _load() -> dict[str, str]:
    return json.loads(DATABASE.read_text()) if DATABASE.is_file() else {}


def _save(installed: dict[str, str]) -> None:
    DATABASE.parent.mkdir(parents=True, exist_ok=True)
    DATABASE.write_text(json.dumps(installed, indent=2, sort_keys=True))


def install(names: list[str]) -> int:
    installed = _load()
    missing = [
        n for n in names if n not in CATALOGUE and n not in installed and not shutil.which(n)
    ]
    if missing:
        for name in missing:
            _out(f"No match for argument: {name}")
        _err(f"Error: Unable to find a match: {' '.join(missing)}")
        _err(
            "(dnf stand-in of the xrdeploy local instance: its catalogue has "
            f"{', '.join(sorted(CATALOGUE))}; commands of the host count as installed)"
        )
        return 1
    new = []
    for name in names:
        if name in installed or name not in CATALOGUE:
            if name in installed:
                _out(f"Package {name}-{installed[name]}.{ARCH} is already installed.")
            else:
                _out(f"Package {name} is already installed (a command of the host).")
            continue
        version, setup = CATALOGUE[name]
        setup()
        installed[name] = version
        new.append(f"{name}-{version}.{ARCH}")
    _save(installed)
    if new:
        _out("Installed:\n" + "".join(f"  {package}\n" for package in new))
        _out("Complete!")
    else:
        _out("Dependencies resolved.\nNothing to do.\nComplete!")
    return 0


def remove(names: list[str]) -> int:
    installed = _load()
    gone = [n for n in names if n in installed]
    for name in gone:
        del installed[name]
    _save(installed)
    if not gone:
        _out("No packages marked for removal.\nDependencies resolved.\nNothing to do.\nComplete!")
        return 0
    _out("Removed:\n" + "".join(f"  {n}\n" for n in gone) + "\nComplete!")
    return 0


def main(argv: list[str]) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # keeps the order
    words = [a for a in argv if a not in _IGNORED and not a.startswith(_IGNORED_PREFIXES)]
    if not words:
        _err("dnf (stand-in): a command is required")
        return 1
    command, names = words[0], words[1:]
    if command in ("install", "reinstall"):
        return install(names)
    if command in ("remove", "erase"):
        return remove(names)
    if command == "list" and names[:1] == ["installed"]:
        _out("Installed Packages")
        for name, version in sorted(_load().items()):
            _out(f"{name}.{ARCH}  {version}  @stand-in")
        return 0
    if command in ("makecache", "clean", "update", "upgrade", "check-update"):
        _out("Dependencies resolved.\nNothing to do.\nComplete!")
        return 0
    _err(f"dnf (stand-in of the xrdeploy local instance): '{command}' is not supported")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
