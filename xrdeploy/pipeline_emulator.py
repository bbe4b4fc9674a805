"""Plays CodePipeline's part where the free LocalStack has no CodePipeline.

What it is, honestly: a small driver that walks the pipeline definition each stage stack outputs
(the same data its aws_codepipeline resource is built from) and does what CodePipeline does for
each action, against LocalStack:

- Source (S3): reads the source object's current version and copies it into the stage's artifact
  bucket, as CodePipeline does with an S3 source.
- Deploy (CodeDeploy): not emulated (CodeDeploy is paid-only in LocalStack); recorded as skipped.
- Approval (Manual): approved at once, recorded as such.
- Invoke (Lambda): builds the job event CodePipeline sends (variables resolved, input artifact,
  temporary artifact credentials), invokes the *deployed* copy function through LocalStack's Lambda
  API, and waits for the function's PutJobSuccessResult/PutJobFailureResult, which reach
  `JobResultEndpoint` (an HTTP server speaking CodePipeline's JSON protocol). A continuation
  token makes it invoke again with that token, as CodePipeline does.

What it is not: CodePipeline. No retries of failed actions, no execution history, no EventBridge
trigger (the chain driver runs the next stage when the promote action succeeds).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import boto3
from botocore.config import Config

from xrdeploy.target import EMULATOR_SECRET_KEY

TARGET_PREFIX = "CodePipeline_20150709."
MAX_CONTINUATIONS = 100
EmulatedService = Literal["s3", "sts", "lambda", "logs", "iam", "kms"]


@dataclass
class JobResult:
    job_id: str
    outcome: str  # "success" or "failure"
    continuation_token: str | None = None
    failure_type: str | None = None
    message: str | None = None
    summary: str | None = None
    received_at: float = field(default_factory=time.monotonic)


class JobResultEndpoint:
    """Receives PutJobSuccessResult / PutJobFailureResult over CodePipeline's wire protocol
    (AWS JSON 1.1, X-Amz-Target header). Unknown job ids get JobNotFoundException, as in AWS."""

    def __init__(self) -> None:
        self._results: dict[str, list[JobResult]] = {}
        self._known: set[str] = set()
        self._changed = threading.Condition()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                operation = self.headers.get("X-Amz-Target", "").removeprefix(TARGET_PREFIX)
                status, reply = endpoint._handle(operation, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None  # the chain report says what happened

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> JobResultEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def expect(self, job_id: str) -> None:
        with self._changed:
            self._known.add(job_id)

    def _handle(self, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        job_id = body.get("jobId", "")
        if operation not in {"PutJobSuccessResult", "PutJobFailureResult"}:
            return 400, {
                "__type": "UnknownOperationException",
                "message": f"{operation} is not emulated",
            }
        with self._changed:
            if job_id not in self._known:
                return 400, {"__type": "JobNotFoundException", "message": f"job {job_id} not found"}
            if operation == "PutJobSuccessResult":
                details = body.get("executionDetails") or {}
                result = JobResult(
                    job_id,
                    "success",
                    continuation_token=body.get("continuationToken"),
                    summary=details.get("summary"),
                )
            else:
                failure = body.get("failureDetails") or {}
                result = JobResult(
                    job_id,
                    "failure",
                    failure_type=failure.get("type"),
                    message=failure.get("message"),
                )
            self._results.setdefault(job_id, []).append(result)
            self._changed.notify_all()
        return 200, {}

    def wait(self, job_id: str, count: int, timeout: float) -> JobResult | None:
        """The job's `count`-th result, or None if the function never reported one."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._results.get(job_id, [])) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)
            return self._results[job_id][count - 1]


@dataclass
class ActionRecord:
    stage: str
    action: str
    outcome: str
    detail: str = ""


@dataclass
class StageRun:
    stage: str
    execution_id: str
    source_version_id: str
    records: list[ActionRecord] = field(default_factory=list)
    job_result: JobResult | None = None
    invocations: int = 0

    @property
    def promoted(self) -> bool:
        return self.job_result is not None and self.job_result.outcome == "success"


def resolve_variables(text: str, variables: dict[str, str]) -> str:
    """CodePipeline's `#{namespace.name}` substitution in action configuration."""
    for name, value in variables.items():
        text = text.replace(f"#{{{name}}}", value)
    return text


@dataclass
class PipelineEmulator:
    """Runs one stage's pipeline definition against LocalStack."""

    endpoint_url: str
    job_results: JobResultEndpoint
    invoke_timeout: float = 900.0
    log: Callable[[str], None] = lambda _: None

    def client(self, service: EmulatedService, account_id: str, region: str) -> Any:
        # LocalStack maps a 12-digit access key id to that account.
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id=account_id,
            aws_secret_access_key=EMULATOR_SECRET_KEY,
            config=Config(
                retries={"mode": "standard", "max_attempts": 20},
                read_timeout=self.invoke_timeout,
                s3={"addressing_style": "path"},
            ),
        )

    def run(
        self,
        outputs: dict[str, Any],
        job_event_hook: Callable[[dict[str, Any]], None] | None = None,
        source_version_id: str | None = None,
    ) -> StageRun:
        """Play the stage's pipeline for the source object's current version, or for
        `source_version_id` (an execution started by that version's upload)."""
        stage = outputs["stage"]
        account, region = outputs["account_id"], outputs["region"]
        s3 = self.client("s3", account, region)
        definition = json.loads(outputs["pipeline_definition"])
        if source_version_id is None:
            head = s3.head_object(Bucket=outputs["source_bucket"], Key=outputs["source_key"])
            source_version_id = str(head["VersionId"])
        run = StageRun(
            stage=stage, execution_id=str(uuid.uuid4()), source_version_id=source_version_id
        )
        variables = {"codepipeline.PipelineExecutionId": run.execution_id}
        artifacts: dict[str, dict[str, str]] = {}
        for pipeline_stage in definition:
            for action in pipeline_stage["actions"]:
                kind = (action["category"], action["provider"])
                if kind == ("Source", "S3"):
                    self._source(s3, outputs, action, run, variables, artifacts)
                elif kind == ("Deploy", "CodeDeploy"):
                    run.records.append(
                        ActionRecord(
                            stage,
                            action["name"],
                            "skipped",
                            "CodeDeploy is not in the free emulator",
                        )
                    )
                elif kind == ("Approval", "Manual"):
                    run.records.append(
                        ActionRecord(
                            stage,
                            action["name"],
                            "approved",
                            action["configuration"].get("CustomData", ""),
                        )
                    )
                elif kind == ("Invoke", "Lambda"):
                    self._invoke(outputs, action, run, variables, artifacts, job_event_hook)
                    if not run.promoted:
                        return run
                else:
                    raise ValueError(f"{stage}: action {action['name']} ({kind}) is not emulated")
        return run

    def _source(
        self,
        s3: Any,
        outputs: dict[str, Any],
        action: dict[str, Any],
        run: StageRun,
        variables: dict[str, str],
        artifacts: dict[str, dict[str, str]],
    ) -> None:
        config = action["configuration"]
        # CodePipeline stores the source revision under <pipeline>/<artifact>/<random id>.
        artifact_key = (
            f"{outputs['pipeline_name'][:20]}/"
            f"{action['output_artifacts'][0][:20]}/{uuid.uuid4().hex[:7]}"
        )
        s3.copy_object(
            Bucket=outputs["artifact_bucket"],
            Key=artifact_key,
            CopySource={
                "Bucket": config["S3Bucket"],
                "Key": config["S3ObjectKey"],
                "VersionId": run.source_version_id,
            },
        )
        for name in action["output_artifacts"]:
            artifacts[name] = {"bucketName": outputs["artifact_bucket"], "objectKey": artifact_key}
        namespace = action.get("namespace")
        if namespace:
            head = s3.head_object(
                Bucket=config["S3Bucket"],
                Key=config["S3ObjectKey"],
                VersionId=run.source_version_id,
            )
            variables[f"{namespace}.VersionId"] = run.source_version_id
            variables[f"{namespace}.ETag"] = head["ETag"].strip('"')
            variables[f"{namespace}.ObjectKey"] = config["S3ObjectKey"]
        run.records.append(
            ActionRecord(
                run.stage,
                action["name"],
                "succeeded",
                f"s3://{config['S3Bucket']}/{config['S3ObjectKey']}"
                f"?versionId={run.source_version_id}",
            )
        )

    def job_event(
        self,
        outputs: dict[str, Any],
        action: dict[str, Any],
        job_id: str,
        variables: dict[str, str],
        artifacts: dict[str, dict[str, str]],
        continuation_token: str | None,
    ) -> dict[str, Any]:
        """The event CodePipeline sends to a Lambda invoke action."""
        sts = self.client("sts", outputs["account_id"], outputs["region"])
        credentials = sts.get_session_token(DurationSeconds=900)["Credentials"]
        configuration = {
            name: resolve_variables(value, variables)
            for name, value in action["configuration"].items()
        }
        data: dict[str, Any] = {
            "actionConfiguration": {"configuration": configuration},
            "inputArtifacts": [
                {
                    "name": name,
                    "revision": None,
                    "location": {"type": "S3", "s3Location": artifacts[name]},
                }
                for name in action["input_artifacts"]
            ],
            "outputArtifacts": [],
            "artifactCredentials": {
                "accessKeyId": credentials["AccessKeyId"],
                "secretAccessKey": credentials["SecretAccessKey"],
                "sessionToken": credentials["SessionToken"],
            },
            "encryptionKey": {"id": outputs["kms_key_arn"], "type": "KMS"},
        }
        if continuation_token:
            data["continuationToken"] = continuation_token
        return {
            "CodePipeline.job": {"id": job_id, "accountId": outputs["account_id"], "data": data}
        }

    def _invoke(
        self,
        outputs: dict[str, Any],
        action: dict[str, Any],
        run: StageRun,
        variables: dict[str, str],
        artifacts: dict[str, dict[str, str]],
        job_event_hook: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        lambda_client = self.client("lambda", outputs["account_id"], outputs["region"])
        function = action["configuration"]["FunctionName"]
        continuation: str | None = None
        for _ in range(MAX_CONTINUATIONS):
            job_id = str(uuid.uuid4())  # CodePipeline gives every invocation a new job id
            event = self.job_event(outputs, action, job_id, variables, artifacts, continuation)
            if job_event_hook is not None:
                job_event_hook(event)
            self.job_results.expect(job_id)
            started = time.monotonic()
            response = lambda_client.invoke(
                FunctionName=function, Payload=json.dumps(event).encode()
            )
            run.invocations += 1
            error = response.get("FunctionError")
            result = self.job_results.wait(job_id, 1, timeout=5 if error else 60)
            if result is None:
                detail = response["Payload"].read().decode(errors="replace")[:300]
                run.job_result = JobResult(
                    job_id,
                    "failure",
                    failure_type="JobFailed",
                    message=f"the function reported no job result "
                    f"({error or 'no error'}: {detail})",
                )
                break
            run.job_result = result
            self.log(
                f"{run.stage}: {function} -> {result.outcome} in {time.monotonic() - started:.1f}s"
            )
            if result.outcome != "success" or not result.continuation_token:
                break
            continuation = result.continuation_token
        outcome = run.job_result.outcome if run.job_result else "failure"
        detail = (run.job_result.summary or run.job_result.message or "") if run.job_result else ""
        run.records.append(ActionRecord(run.stage, action["name"], outcome, detail))
