"""The synthesized Terraform of the default chain, of the wave config (tests/configs/wave.yaml),
of the Windows config (tests/configs/windows.yaml) and of the GitHub-sourced config
(tests/configs/github_source.yaml), committed: a PR that changes it shows the diff.

Regenerate after an intended change with:
    XRDEPLOY_UPDATE_GOLDEN=1 pipenv run pytest tests/synth/test_golden.py
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

GOLDEN_ROOT = Path(__file__).resolve().parent.parent / "golden"
GOLDEN_CONFIGS = ["default", "wave", "windows", "github_source"]
# The function package's hash changes with every edit to lambda/; its content is tested apart.
ASSET_HASH = re.compile(r"(assets/[^/\"]+/)[0-9A-F]{32}")


def normalized(text: str) -> str:
    return ASSET_HASH.sub(r"\1<asset-hash>", text)


@pytest.mark.parametrize("config", GOLDEN_CONFIGS)
def test_synthesis_matches_the_committed_golden_files(synthesized, config):
    golden = GOLDEN_ROOT / config
    result = synthesized(config)
    produced = {
        f"{stack.name}.tf.json": normalized(
            json.dumps(stack.document(), indent=2, sort_keys=True) + "\n"
        )
        for stack in result.stacks
    }
    if os.environ.get("XRDEPLOY_UPDATE_GOLDEN") == "1":
        golden.mkdir(parents=True, exist_ok=True)
        for stale in golden.glob("*.tf.json"):
            stale.unlink()
        for name, text in produced.items():
            (golden / name).write_text(text)
    committed = {path.name: path.read_text() for path in golden.glob("*.tf.json")}
    assert sorted(committed) == sorted(produced)
    for name, text in produced.items():
        assert text == committed[name], (
            f"{name} differs from tests/golden/{config}; if intended, regenerate (see module doc)"
        )
