"""How often the pipeline console's waits read CodePipeline: once a second for a person, at the
interval its caller asks for otherwise (the integration tests' harness)."""

from __future__ import annotations

from typing import Any

import pytest

from xrdeploy.console import pipelines
from xrdeploy.console.pipelines import PipelineConsole, StagePipeline

PIPELINE = StagePipeline("alpha", "111111111111", "eu-west-1", "app-alpha", "b-alpha", "k")


class ExecutionAppearsOnThirdRead:
    """CodePipeline whose ListPipelineExecutions shows a new execution from the third call."""

    def __init__(self) -> None:
        self.reads = 0

    def list_pipeline_executions(self, **_: Any) -> dict[str, Any]:
        self.reads += 1
        listed = [{"pipelineExecutionId": "new", "status": "InProgress"}] if self.reads >= 3 else []
        return {"pipelineExecutionSummaries": listed}


class Clients:
    def __init__(self, codepipeline: ExecutionAppearsOnThirdRead) -> None:
        self.codepipeline = codepipeline

    def client(self, service: str, account_id: str, region: str) -> Any:
        assert (service, account_id, region) == ("codepipeline", "111111111111", "eu-west-1")
        return self.codepipeline


@pytest.mark.parametrize(("asked", "slept"), [({}, 1.0), ({"poll_interval": 0.25}, 0.25)])
def test_waiting_for_a_new_execution_reads_at_the_consoles_interval(
    monkeypatch: pytest.MonkeyPatch, asked: dict[str, float], slept: float
) -> None:
    # GIVEN a pipeline whose new execution appears on the third read
    sleeps: list[float] = []
    monkeypatch.setattr(pipelines.time, "sleep", sleeps.append)
    codepipeline = ExecutionAppearsOnThirdRead()
    console = PipelineConsole(Clients(codepipeline), **asked)  # type: ignore[arg-type]

    # WHEN the console waits for it
    found = console.wait_for_new_execution(PIPELINE, known=set(), timeout=60)

    # THEN it read three times, pausing the console's interval between reads
    assert found["pipelineExecutionId"] == "new"
    assert codepipeline.reads == 3
    assert sleeps == [slept, slept]
