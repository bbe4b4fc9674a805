"""The promotion topology (`stages[].after`): waves, the accessors the app codes against, and
every rule, each refused with one line naming `stages[i].after`."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import CONFIGS
from xrdeploy.config.model import load_config, parse_config
from xrdeploy.config.topology import Topology
from xrdeploy.errors import ConfigError


def stage(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "account_id": "111111111111",
        "region": "us-east-1",
        "fleet": {"tag_value": name.title(), "http_ingress_cidr": "10.0.0.0/8"},
        **extra,
    }


def chain(*stages: dict[str, Any]) -> dict[str, Any]:
    return {"app": {"name": "shop"}, "stages": [copy.deepcopy(s) for s in stages]}


def refusal(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "chain.yaml")
    return caught.value.problems


WAVE = chain(
    stage("alpha"),
    stage("beta"),
    stage("prod-a"),
    stage("prod-b", after="beta"),
    stage("prod-c", after="beta"),
)


def test_without_after_each_stage_follows_the_previous_one():
    config = load_config(None)
    assert [s.name if s else None for s in map(config.upstream_of, ["alpha", "beta", "prod"])] == [
        None,
        "alpha",
        "beta",
    ]
    assert [[s.name for s in wave] for wave in config.waves()] == [["alpha"], ["beta"], ["prod"]]


def test_stages_after_one_stage_form_a_wave():
    # GIVEN three stages after beta (one by default, two by name)
    config = parse_config(WAVE, "chain.yaml")
    # THEN beta promotes to all three, each has beta upstream, and they are one wave
    assert [s.name for s in config.downstream_of("beta")] == ["prod-a", "prod-b", "prod-c"]
    upstream = config.upstream_of("prod-c")
    assert upstream is not None and upstream.name == "beta"
    assert config.upstream_of("alpha") is None
    assert config.downstream_of("prod-a") == ()
    assert [[s.name for s in w] for w in config.waves()] == [
        ["alpha"],
        ["beta"],
        ["prod-a", "prod-b", "prod-c"],
    ]


def test_a_wave_can_branch_from_an_earlier_stage():
    config = parse_config(chain(stage("alpha"), stage("beta"), stage("gamma", after="alpha")), "c")
    assert [s.name for s in config.downstream_of("alpha")] == ["beta", "gamma"]
    assert [[s.name for s in w] for w in config.waves()] == [["alpha"], ["beta", "gamma"]]


def test_the_shipped_wave_configs_fan_out_after_beta():
    for name, wave, waves in [
        ("wave", ["prod-us-east-1", "prod-eu-west-1", "prod-ap-southeast-2"], 3),
        ("local_wave", ["prod-eu", "prod-ap"], 2),
    ]:
        config = load_config(CONFIGS / f"{name}.yaml")
        assert [s.name for s in config.downstream_of("beta")] == wave
        assert len(config.waves()) == waves


def test_asking_for_an_unknown_stage_names_it():
    with pytest.raises(KeyError, match="gamma"):
        load_config(None).upstream_of("gamma")


BAD_TOPOLOGIES = [
    (
        "unknown after",
        chain(stage("alpha"), stage("beta", after="gamma")),
        ['chain.yaml: stages[1].after: unknown stage "gamma"'],
    ),
    (
        "follows itself",
        chain(stage("alpha"), stage("beta", after="beta")),
        ['chain.yaml: stages[1].after: stage "beta" cannot follow itself'],
    ),
    (
        "cycle",
        chain(stage("alpha", after="beta"), stage("beta")),
        ["chain.yaml: stages[0].after: cycle: alpha → beta → alpha (each follows the next)"],
    ),
    (
        "second first stage",
        chain(stage("alpha"), stage("beta", after=None)),
        [
            'chain.yaml: stages[1].after: "beta" would be a second first stage after "alpha"; '
            "a chain has one first stage, name the stage it follows"
        ],
    ),
    (
        "unreachable behind a cycle",
        chain(stage("alpha"), stage("beta", after="gamma"), stage("gamma"), stage("delta")),
        [
            "chain.yaml: stages[1].after: cycle: beta → gamma → beta (each follows the next)",
            'chain.yaml: stages[3].after: "delta" can never be reached: it follows a cycle',
        ],
    ),
    (
        "upstream listed later",
        chain(stage("alpha"), stage("beta", after="gamma"), stage("gamma", after="alpha")),
        [
            'chain.yaml: stages[1].after: "gamma" is listed after "beta"; list every stage '
            "after the one it follows (stacks deploy in list order)"
        ],
    ),
    (
        "approval on a wave leaf",
        chain(
            stage("alpha"),
            stage("beta", gates={"manual_approval": True}),
            stage("gamma", after="alpha"),
        ),
        [
            "chain.yaml: stages[1].gates.manual_approval: beta promotes to no stage, so an "
            "approval before promotion has no effect"
        ],
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"), [pytest.param(d, e, id=i) for i, d, e in BAD_TOPOLOGIES]
)
def test_bad_topology_is_refused_one_line_per_problem(data, expected):
    assert refusal(data) == expected


def test_every_topology_problem_gets_its_own_line():
    lines = refusal(
        chain(stage("alpha"), stage("beta", after="nope"), stage("gamma", after="gamma"))
    )
    assert lines == [
        'chain.yaml: stages[1].after: unknown stage "nope"',
        'chain.yaml: stages[2].after: stage "gamma" cannot follow itself',
    ]


def test_topology_alone_resolves_defaults_and_explicit_first_stage():
    topology = Topology.of(["a", "b", "c"], [(False, None), (True, None), (True, "a")])
    assert topology.upstream == (None, None, "a")
    assert topology.downstream("a") == ("c",)
    assert topology.waves() == (("a",), ("c",))  # b is a second first stage: not in a wave
    assert len(topology.problems([(False, None), (True, None), (True, "a")])) == 1
