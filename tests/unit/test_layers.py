"""Layers point one way and pieces stay small (STYLE.md 12 and "Functions ≤ 60 lines, files
≤ 400 lines"): leaf constructs know nothing of the app, the app reaches the local cloud only
through its commands, and no function or file outgrows what a reviewer reads in one go."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 400
SIZED = ("modules", "xrdeploy", "lambda", "emulator")


def sources(package: str) -> list[Path]:
    return sorted(p for p in (REPO_ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def imported_packages(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("modules", {"xrdeploy", "emulator"}),
        # The app starts the local cloud as `python -m emulator`
        # (xrdeploy/rehearsal/local_cloud.py).
        ("xrdeploy", {"emulator"}),
        ("emulator", {"xrdeploy", "modules"}),
    ],
)
def test_layers_point_one_way(package: str, forbidden: set[str]) -> None:
    crossing = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {name}"
        for path in sources(package)
        for line, name in imported_packages(path)
        if name in forbidden
    ]
    assert crossing == []


# The app's parts (README "Layout"), each above the ones it may import: the CLI on top; the local
# rehearsal drives Terraform and follows pipelines; the console reads the pipelines through
# aws_clients, which builds clients for a stage's account and region; the Terraform side
# synthesizes the config; the config imports only the shared leaves (errors, paths, ...).
APP_PARTS = ("cli", "rehearsal", "console", "terraform", "config")
CLIENTS = "aws_clients"
SHARED = "(shared)"  # xrdeploy's other top-level modules
MAY_IMPORT = {
    "cli": {"rehearsal", "console", "terraform", "config", CLIENTS, SHARED},
    "rehearsal": {"console", "terraform", "config", CLIENTS, SHARED},
    "console": {"config", CLIENTS, SHARED},
    "terraform": {"config", SHARED},
    CLIENTS: {"config", SHARED},
    "config": {SHARED},
    SHARED: {SHARED},
}


def app_part(module: str) -> str:
    """`xrdeploy.console.pipelines` -> `console`; `xrdeploy.errors.UserError` -> SHARED."""
    parts = module.split(".")
    if parts[1] == CLIENTS:
        return CLIENTS
    return parts[1] if len(parts) > 2 and parts[1] in APP_PARTS else SHARED


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def test_app_parts_point_one_way() -> None:
    crossing = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {name}"
        for path in sources("xrdeploy")
        if (part := app_part(".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)))
        for line, name in imported_modules(path)
        if name.startswith("xrdeploy.")
        and app_part(name) != part
        and app_part(name) not in MAY_IMPORT[part]
    ]
    assert crossing == []


def test_only_main_imports_the_cli() -> None:
    cli = REPO_ROOT / "xrdeploy" / "cli"
    outside = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {name}"
        for package in ("xrdeploy", "tools", "benchmarks")  # tests drive the CLI
        for path in sources(package)
        if cli not in path.parents
        for line, name in imported_modules(path)
        if name == "xrdeploy.cli" or name.startswith("xrdeploy.cli.")
    ]
    assert outside == []


def test_top_level_stays_small() -> None:
    """The top level holds the shared leaves; everything else lives in its part's folder."""
    top = REPO_ROOT / "xrdeploy"
    assert len(list(top.glob("*.py"))) <= 10
    folders = {p.name for p in top.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(APP_PARTS)


@pytest.mark.parametrize("package", SIZED)
def test_functions_stay_short(package: str) -> None:
    long = [
        f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name}"
        f" ({node.end_lineno - node.lineno + 1} lines)"
        for path in sources(package)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


@pytest.mark.parametrize("package", SIZED)
def test_files_stay_short(package: str) -> None:
    long = [
        f"{path.relative_to(REPO_ROOT)} ({lines} lines)"
        for path in sources(package)
        if (lines := len(path.read_text().splitlines())) > MAX_FILE_LINES
    ]
    assert long == []
