"""Promotion time and the copy function's peak memory for 1 MB, 100 MB and 1 GB artifacts, next
to the naive approach (read the whole body into memory, then one put_object).

    python3 benchmarks/bench_copy.py [--sizes 1MB 100MB 1GB] [--repeat 1] [--endpoint URL]

S3 is moto in server mode, started here in its own process on a free loopback port (or any
S3-compatible endpoint given with --endpoint, e.g. LocalStack). Sizes are binary: 1MB = 1 MiB.
Each measurement runs in a fresh worker process that imports boto3 and the function, makes its
clients, then resets its peak-RSS mark (/proc/self/clear_refs) and promotes once. "Peak" is that
process's high-water RSS (VmHWM) during the promotion, "over baseline" the part the promotion
added. The streamed run goes through handler.handle() exactly as Lambda would call it, with the
CodePipeline result short-circuited in the client; its time includes both passes, the
idempotency check and the checksum verification.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EVENT = REPO / "tests" / "events" / "codepipeline_promote_job.json"
PIPELINE_REGION = "eu-west-1"
DESTINATION_REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
PROMOTION_ROLE = "bench-promotion"
PROMOTION_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{PROMOTION_ROLE}"
ARTIFACT_BUCKET = "bench-alpha-artifacts"
DESTINATION_BUCKET = "bench-beta-src"
DESTINATION_KEY = "sample_app.zip"
UNITS = {"KB": 1024, "MB": 1024**2, "GB": 1024**3}
UPLOAD_PART = 64 * 1024**2
APPROACHES = ("streamed", "naive")


def parse_size(text: str) -> int:
    for suffix, factor in UNITS.items():
        if text.upper().endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)


def worker_environment(endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": PIPELINE_REGION,
        "AWS_REGION": PIPELINE_REGION,
        "AWS_S3_ADDRESSING_STYLE": "path",  # loopback endpoints have no bucket subdomains
    }


# --- the worker: one promotion in a fresh process ------------------------------------------------


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    # Writing 5 resets VmHWM to the current RSS (Linux >= 4.0), so the peak excludes start-up.
    Path("/proc/self/clear_refs").write_text("5")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_worker(approach: str, key: str) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "lambda"))
    import boto3
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    session = boto3.session.Session()
    if approach == "streamed":
        import handler
        from clients import ClientFactory

        results: list[tuple[str, dict[str, Any]]] = []
        session.events.register(
            "before-parameter-build.codepipeline",
            lambda params, model, **_: results.append((model.name, dict(params))),
        )

        def answer_job_result(**_: Any) -> Any:
            # Returning a response from before-call skips sending: no CodePipeline here.
            return AWSResponse("https://codepipeline.bench", 200, HTTPHeaders(), None), {}

        session.events.register("before-call.codepipeline", answer_job_result)
        factory = ClientFactory(session)
        event = _event(key)

        class Context:
            @staticmethod
            def get_remaining_time_in_millis() -> int:
                return 900_000  # Lambda's maximum: the benchmark measures one uninterrupted copy

        # Warm the runtime as a previous invocation would have: service models loaded.
        factory.codepipeline()
        factory.s3(region=DESTINATION_REGION, credentials=None).head_bucket(
            Bucket=DESTINATION_BUCKET
        )
        baseline = _status_kib("VmRSS")
        _reset_peak()
        cpu = _cpu_seconds()
        started = time.perf_counter()
        handler.handle(event, Context(), factory)
        elapsed = time.perf_counter() - started
        [(name, params)] = results
        if name != "PutJobSuccessResult" or "continuationToken" in params:
            raise RuntimeError(f"promotion did not complete: {name} {params}")
    else:
        source = session.client("s3", region_name=PIPELINE_REGION)
        destination = session.client("s3", region_name=DESTINATION_REGION)
        source.head_bucket(Bucket=ARTIFACT_BUCKET)
        destination.head_bucket(Bucket=DESTINATION_BUCKET)
        baseline = _status_kib("VmRSS")
        _reset_peak()
        cpu = _cpu_seconds()
        started = time.perf_counter()
        body = source.get_object(Bucket=ARTIFACT_BUCKET, Key=key)["Body"].read()
        destination.put_object(Bucket=DESTINATION_BUCKET, Key=DESTINATION_KEY, Body=body)
        elapsed = time.perf_counter() - started
        del body
    return {
        "seconds": elapsed,
        "peak_kib": _status_kib("VmHWM"),
        "baseline_kib": baseline,
        "cpu_seconds": _cpu_seconds() - cpu,
    }


def _event(key: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(EVENT.read_text())
    data = event["CodePipeline.job"]["data"]
    data["inputArtifacts"][0]["location"]["s3Location"] = {
        "bucketName": ARTIFACT_BUCKET,
        "objectKey": key,
    }
    data["artifactCredentials"] = {
        "accessKeyId": "testing",
        "secretAccessKey": "testing",
        "sessionToken": "testing",
    }
    configuration = data["actionConfiguration"]["configuration"]
    parameters = json.loads(configuration["UserParameters"])
    parameters["destination"].update(
        bucket=DESTINATION_BUCKET,
        key=DESTINATION_KEY,
        account_id=ACCOUNT,
        role_arn=PROMOTION_ROLE_ARN,
    )
    configuration["UserParameters"] = json.dumps(parameters)
    return event


# --- the orchestrator ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)


def _admin_s3(endpoint: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}),
    )


def _prepare_promotion_role(endpoint: str) -> None:
    """The role the function writes with, trusted by the account (the emulator checks trust)."""
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCOUNT,
        aws_secret_access_key="test",
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
        ],
    }
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=PROMOTION_ROLE, AssumeRolePolicyDocument=json.dumps(trust))


def _prepare_buckets(endpoint: str) -> None:
    _prepare_promotion_role(endpoint)
    for bucket, region in (
        (ARTIFACT_BUCKET, PIPELINE_REGION),
        (DESTINATION_BUCKET, DESTINATION_REGION),
    ):
        s3 = _admin_s3(endpoint, region)
        extra = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=bucket, **extra)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def _upload_artifact(endpoint: str, key: str, size: int) -> None:
    """Random (incompressible) bytes, uploaded in parts so this process stays small too."""
    s3 = _admin_s3(endpoint, PIPELINE_REGION)
    upload = s3.create_multipart_upload(Bucket=ARTIFACT_BUCKET, Key=key)
    parts = []
    for number, offset in enumerate(range(0, max(size, 1), UPLOAD_PART), start=1):
        body = os.urandom(min(UPLOAD_PART, size - offset))
        put = s3.upload_part(
            Bucket=ARTIFACT_BUCKET,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=body,
        )
        parts.append({"PartNumber": number, "ETag": put["ETag"]})
    s3.complete_multipart_upload(
        Bucket=ARTIFACT_BUCKET,
        Key=key,
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )


def _empty(endpoint: str, bucket: str, region: str, key: str) -> None:
    s3 = _admin_s3(endpoint, region)
    listed = s3.list_object_versions(Bucket=bucket, Prefix=key)
    for version in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])


def measure(endpoint: str, approach: str, key: str) -> dict[str, Any]:
    _empty(endpoint, DESTINATION_BUCKET, DESTINATION_REGION, DESTINATION_KEY)
    done = subprocess.run(
        [sys.executable, __file__, "--worker", approach, key],
        env=worker_environment(endpoint),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{approach} worker failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["1MB", "100MB", "1GB"])
    parser.add_argument("--approaches", nargs="+", choices=APPROACHES, default=list(APPROACHES))
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the median is shown")
    parser.add_argument("--endpoint", help="an S3 endpoint to use instead of starting moto")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--worker", nargs=2, metavar=("APPROACH", "KEY"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(run_worker(*args.worker)))
        return

    rows: list[dict[str, Any]] = []
    server = contextlib.nullcontext(args.endpoint) if args.endpoint else moto_server()
    with server as endpoint:
        _prepare_buckets(endpoint)
        for label in args.sizes:
            size = parse_size(label)
            key = f"artifacts/{label}.zip"
            _upload_artifact(endpoint, key, size)
            for approach in args.approaches:
                runs = [measure(endpoint, approach, key) for _ in range(args.repeat)]
                row = {
                    "size": label,
                    "bytes": size,
                    "approach": approach,
                    "seconds": statistics.median(r["seconds"] for r in runs),
                    "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
                    "peak_mib": statistics.median(r["peak_kib"] for r in runs) / 1024,
                    "added_mib": statistics.median(r["peak_kib"] - r["baseline_kib"] for r in runs)
                    / 1024,
                }
                rows.append(row)
                print(_line(row), flush=True)
            # Keep the server's memory to one artifact at a time.
            _empty(endpoint, ARTIFACT_BUCKET, PIPELINE_REGION, key)
    print(f"\n{args.endpoint or 'moto server'}:\n")
    print(
        "| artifact | approach | time (s) | MiB/s | worker CPU (s) | peak RSS (MiB) | "
        "added by the promotion (MiB) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['size']} | {row['approach']} | {row['seconds']:.2f} | "
            f"{row['bytes'] / 1024**2 / row['seconds']:.1f} | {row['cpu_seconds']:.2f} | "
            f"{row['peak_mib']:.0f} | {row['added_mib']:.0f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def _line(row: dict[str, Any]) -> str:
    return (
        f"{row['size']:>6} {row['approach']:>8}: {row['seconds']:8.2f} s, "
        f"peak {row['peak_mib']:7.0f} MiB (+{row['added_mib']:.0f})"
    )


if __name__ == "__main__":
    main()
