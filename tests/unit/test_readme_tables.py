"""README's commands and config tables say what the code has: every command in the table is one
`python main.py --help` lists (and the reverse); every key in the config table is a field of the
config model (and every field is in the table, or named in its parent's row)."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from typing import Any

import typer
import typer.core
from pydantic import BaseModel

from tests.conftest import REPO_ROOT
from xrdeploy.cli.main import app
from xrdeploy.config.model import ChainConfig

README = (REPO_ROOT / "README.md").read_text()


def table_rows(section: str) -> list[str]:
    """The rows (header and rule left out) of the first table under `## <section>`."""
    body = README.split(f"\n## {section}\n", 1)[1]
    table = re.search(r"(?m)^\|.*\n\|[-| ]+\|\n((?:\|.*\n)+)", body)
    assert table is not None, f"no table under ## {section}"
    return table.group(1).splitlines()


def first_cell_codes(row: str) -> list[str]:
    return re.findall(r"`([^`]+)`", row.split(" | ")[0])


def cli_commands(command: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(command, typer.core.TyperGroup):
        for name, sub in command.commands.items():
            yield from cli_commands(sub, f"{prefix}{name} ")
    else:
        yield prefix.strip()


def test_commands_table_lists_exactly_the_cli_commands() -> None:
    # `synth [--config F] …` names synth; `local up` names the local group's up.
    documented = {
        " ".join(word for word in code.split() if re.fullmatch(r"[a-z][a-z-]*", word))
        for row in table_rows("Commands")
        for code in first_cell_codes(row)
    }
    assert documented == set(cli_commands(typer.main.get_command(app)))


def model_of(annotation: object) -> tuple[type[BaseModel] | None, bool]:
    """The config model an annotation holds (through Annotated, Optional and tuples), and whether
    it is a list of them."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return model_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        found = [model_of(arg) for arg in typing.get_args(annotation) if arg is not type(None)]
        return next(((m, many) for m, many in found if m is not None), (None, False))
    if origin is tuple:
        return model_of(typing.get_args(annotation)[0])[0], True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def field_paths(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, bool]]:
    """Every field's key as the README writes it (`stages[].fleet.ssh`); whether it is a leaf."""
    for name, info in model.model_fields.items():
        submodel, many = model_of(info.annotation)
        path = f"{prefix}{name}{'[]' if many and submodel else ''}"
        yield path, submodel is None
        if submodel is not None:
            yield from field_paths(submodel, f"{path}.")


FIELDS = {path for path, _ in field_paths(ChainConfig)}
CONFIG_ROWS = {key: row for row in table_rows("Configuration") for key in first_cell_codes(row)}


def documented(path: str) -> bool:
    """In the table, or named in the row of the nearest key above it (`{cidr, key_pair}`), or in
    the row of a key that row points to (`replaces \\`notifications\\``)."""
    if path in CONFIG_ROWS:
        return True
    parent, _, name = path.rpartition(".")
    ancestor = parent
    while ancestor and ancestor not in CONFIG_ROWS:
        ancestor = ancestor.rpartition(".")[0]
    if not ancestor:
        return False
    row = CONFIG_ROWS[ancestor]
    if ancestor == parent and re.search(rf"\b{re.escape(name)}\b", row.split(" | ")[1]):
        return True
    rest = path[len(ancestor) :]
    return any(
        other != ancestor and other in FIELDS and documented(other + rest)
        for other in re.findall(r"`([a-z_.\[\]]+)`", row.split(" | ")[1])
    )


def test_every_config_table_key_is_a_field_of_the_model() -> None:
    assert set(CONFIG_ROWS) - FIELDS == set()


def test_every_config_field_is_in_the_table() -> None:
    leaves = [path for path, leaf in field_paths(ChainConfig) if leaf]
    assert [path for path in leaves if not documented(path)] == []
