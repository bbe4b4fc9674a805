"""Why a statement stays although no request of the recorded promotion needs it.

The least-privilege replay (``tools/least_privilege.py``) removes each statement, and each action
of a statement with several, from every policy the default chain creates. A removal that denies
no recorded request must be explained here, by (stage or "*", policy kind, Sid, action removed or
None for the whole statement); an entry for a whole statement covers its actions. An entry the
replay shows to be needed after all fails the test as stale.

Each reason has a category:

- ``aws``: AWS makes the request and the local cloud does not (a difference of the emulator);
- ``path``: a path of the chain the recorded promotion does not take (a failure, a large build,
  a stage in another account);
- ``guard``: a Deny that only a request the chain never makes would hit;
- ``unneeded``: nothing needs it; reported for removal from the generator (issue 11).
"""

from __future__ import annotations

Key = tuple[str, str, str, str | None]
Reason = tuple[str, str]  # (category, why)

CATEGORIES = {
    "aws": "AWS needs it; the local cloud does not show it",
    "path": "needed on a path the recorded promotion does not take",
    "guard": "a guard against requests the chain never makes",
    "unneeded": "nothing needs it: to be removed from the generator",
}

_CODEPIPELINE_DEPLOY = (
    "aws",
    "CodePipeline's CodeDeploy action calls it with the pipeline role on AWS (its documented "
    "service-role permissions); the local action calls only CreateDeployment and GetDeployment",
)
_MULTIPART = (
    "path",
    "a build above the copy function's part size goes up in parts, and an interrupted upload is "
    "cleaned up with it; the recorded build is small",
)

AWS_NEEDS: dict[Key, Reason] = {
    ("*", "copy function role", "ReportJobResult", "codepipeline:PutJobFailureResult"): (
        "path",
        "a failed promotion reports with it (the recorded one succeeded; the live mutations of "
        "test_least_privilege.py and the failure tests of test_chain.py use it)",
    ),
    ("*", "pipeline role", "ReadSource", "s3:GetBucketVersioning"): (
        "aws",
        "CodePipeline's S3 source action checks that the source bucket is versioned; the local "
        "action reads the object's current version without asking",
    ),
    ("*", "pipeline role", "UseStageKey", "kms:DescribeKey"): (
        "aws",
        "AWS's guide for pipelines with a customer-managed key grants it; the local CodePipeline "
        "never calls KMS itself (S3 does, on its behalf), so the need cannot be shown here",
    ),
    ("*", "pipeline role", "Deploy", "codedeploy:GetApplication"): _CODEPIPELINE_DEPLOY,
    ("*", "pipeline role", "Deploy", "codedeploy:GetApplicationRevision"): _CODEPIPELINE_DEPLOY,
    ("*", "pipeline role", "Deploy", "codedeploy:RegisterApplicationRevision"): (
        _CODEPIPELINE_DEPLOY
    ),
    ("*", "pipeline role", "ReadDeploymentConfig", None): _CODEPIPELINE_DEPLOY,
    ("*", "CodeDeploy role trust", "Trust", None): (
        "aws",
        "CodeDeploy assumes its service role to find the group's instances; the local CodeDeploy "
        "finds them itself and never assumes it",
    ),
    ("*", "CodeDeploy role", "FindInstancesByTag", None): (
        "aws",
        "CodeDeploy finds the deployment group's instances by tag as this role; the local "
        "CodeDeploy reads its own records",
    ),
    ("*", "instance role", "InstallAgent", None): (
        "aws",
        "the CodeDeploy agent installs from aws-codedeploy-<region>; local instances run a "
        "stand-in agent",
    ),
    ("*", "source bucket", "DenyInsecureTransport", None): (
        "guard",
        "denies plain-HTTP requests, which the chain never makes; test_iam_enforcement.py shows "
        "one denied by it",
    ),
    ("*", "artifact bucket", "DenyInsecureTransport", None): (
        "guard",
        "denies plain-HTTP requests, which the chain never makes; test_iam_enforcement.py shows "
        "one denied by it",
    ),
    ("*", "key", "CloudWatchLogsForCopyFunction", None): (
        "aws",
        "CloudWatch Logs encrypts the copy function's log group with the key; LocalStack's Logs "
        "never calls KMS",
    ),
    ("*", "promotion role", "DeliverBuild", "s3:AbortMultipartUpload"): _MULTIPART,
    ("*", "promotion role", "DeliverBuild", "s3:ListMultipartUploadParts"): _MULTIPART,
    ("*", "promotion role", "EncryptBuild", "kms:Decrypt"): (
        "path",
        "completing a multipart upload decrypts the parts' data key; the recorded build is small",
    ),
}
