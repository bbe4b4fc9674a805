"""`terraform init` of stacks created at once: the init that fills the plugin cache runs alone
(the cache is not safe for concurrent installs), the inits after it run side by side."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from xrdeploy.terraform.command import (
    AWS_PROVIDER_ADDRESS,
    AWS_PROVIDER_VERSION,
    TERRAFORM_HOME_ENV,
    Terraform,
    provider_cached,
)

# A stand-in terraform. `init` with an empty cache fills it, as the real one does; with a filled
# cache it waits until every other init has started too (a minute at most), then fails if they have
# not — so inits that were run one at a time fail the test instead of passing slowly.
STAND_IN = """#!/bin/sh
cache="$XRDEPLOY_TERRAFORM_HOME/plugin-cache/{address}/{version}/linux_amd64"
echo "start $$" >> "$EVENTS"
if [ ! -e "$cache/terraform-provider-aws_v{version}_x5" ]; then
  sleep 0.2; mkdir -p "$cache"; echo binary > "$cache/terraform-provider-aws_v{version}_x5"
  echo "filled $$" >> "$EVENTS"; exit 0
fi
for _ in $(seq 600); do
  [ "$(grep -c start "$EVENTS")" -ge "$EXPECTED" ] && exit 0
  sleep 0.1
done
exit 1
"""


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    binary = tmp_path / "terraform"
    binary.write_text(STAND_IN.format(address=AWS_PROVIDER_ADDRESS, version=AWS_PROVIDER_VERSION))
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(TERRAFORM_HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setenv("EVENTS", str(tmp_path / "events"))
    (tmp_path / "events").touch()
    return binary


def test_the_init_that_fills_the_cache_runs_alone_and_the_rest_side_by_side(
    tmp_path: Path, stand_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN four stacks and an empty plugin cache
    monkeypatch.setenv("EXPECTED", "4")
    stacks = [Terraform(tmp_path, binary=str(stand_in)) for _ in range(4)]
    assert not provider_cached()

    # WHEN all four init at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda terraform: terraform.init(), stacks))

    # THEN one filled the cache before any other started, and the other three ran together
    # (each waited for the others to start: one at a time they would have failed)
    events = (tmp_path / "events").read_text().split()[::2]
    assert events == ["start", "filled", "start", "start", "start"]
    assert provider_cached()
