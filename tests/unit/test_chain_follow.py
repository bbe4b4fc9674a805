"""ChainFollower walks the topology: a wave's stages each follow their upstream, and a failed stage
stops only its own downstream."""

from __future__ import annotations

from typing import Any

from xrdeploy.console.chain_run import ChainFollower, Hop, StageResult
from xrdeploy.console.pipelines import StagePipeline


def pipeline(stage: str, upstream: str | None) -> StagePipeline:
    return StagePipeline(
        stage, "111111111111", "us-east-1", f"p-{stage}", f"b-{stage}", "k", upstream
    )


class Scripted(ChainFollower):
    """Stage outcomes from a script instead of the pipelines' APIs."""

    outcomes: dict[str, str]

    def __post_init__(self) -> None:
        self.followed: list[str] = []

    def _follow_stage(self, pipeline: StagePipeline, known: set[str]) -> StageResult:
        self.followed.append(pipeline.stage)
        return StageResult(
            pipeline.stage, f"e-{pipeline.stage}", self.outcomes[pipeline.stage], (), 1.0
        )

    def _hop(self, source: StagePipeline, destination: StagePipeline, seconds: float) -> Hop:
        return Hop(
            source.stage, destination.stage, destination.source_bucket, "k", "v", "s", seconds
        )


def follow(outcomes: dict[str, str]) -> tuple[list[str], list[tuple[str, str]]]:
    pipelines = [
        pipeline("alpha", None),
        pipeline("beta", "alpha"),
        pipeline("prod-eu", "beta"),
        pipeline("prod-ap", "beta"),
        pipeline("prod-eu-2", "prod-eu"),
    ]
    follower: Any = Scripted(pipelines, clients=None, on_action=print, on_approval=print)  # type: ignore[arg-type]
    follower.outcomes = outcomes
    results, hops = follower.follow({p.stage: set() for p in pipelines})
    assert [r.stage for r in results] == follower.followed
    return follower.followed, [(h.source_stage, h.destination_stage) for h in hops]


def test_every_stage_of_a_wave_is_followed_after_its_upstream():
    followed, hops = follow(
        dict.fromkeys(["alpha", "beta", "prod-eu", "prod-ap", "prod-eu-2"], "Succeeded")
    )
    assert followed == ["alpha", "beta", "prod-eu", "prod-ap", "prod-eu-2"]
    assert hops == [
        ("alpha", "beta"),
        ("beta", "prod-eu"),
        ("beta", "prod-ap"),
        ("prod-eu", "prod-eu-2"),
    ]


def test_a_failed_wave_stage_stops_its_downstream_not_its_sibling():
    followed, hops = follow(
        {"alpha": "Succeeded", "beta": "Succeeded", "prod-eu": "Failed", "prod-ap": "Succeeded"}
    )
    assert followed == ["alpha", "beta", "prod-eu", "prod-ap"]
    assert ("prod-eu", "prod-eu-2") not in hops


def test_a_failed_stage_before_the_wave_stops_the_wave():
    followed, hops = follow({"alpha": "Succeeded", "beta": "Failed"})
    assert followed == ["alpha", "beta"]
    assert hops == [("alpha", "beta")]
