"""Why a grant stays although no recorded request needs it, or is wider than their use.

The least-privilege replay (``tools/least_privilege.py``) removes each statement, and each action
of a statement with several, from every policy a replayed chain creates: the default (S3-sourced)
chain and the Git-sourced chain of ``tests/integration/git_chain.yaml``. A removal that denies
no recorded request must be explained here by a :class:`Need`: (stage or "*", policy kind, Sid,
the exact actions it explains). A Need covers only the actions it names: a statement's removal is
explained when every action of the statement is named by a Need, so an action added to the
statement later is unexplained until someone writes why it is needed.

The width replay (:mod:`emulator.least_privilege_width`) tightens each Resource, Principal and
Condition value (and wildcard action) of every Allow to the values the recorded requests used. A
tightening that still allows every recorded request shows the grant wider than its use; it must
be explained by a :class:`Width`: (stage or "*", policy kind, Sid, field, the granted value with
the chain's app name and the stage's own account, region and name written ``<app>``,
``<account>``, ``<region>``, ``<stage>``).

An entry the replay does not need (the action is needed after all, the value is as narrow as its
use, the statement is gone) fails the test as stale. An entry for a statement only one chain has
(``UseConnection``: a Git source's) is judged by that chain's replay alone.

Each reason has a category:

- ``aws``: AWS makes the request, or requires the form, and the local cloud does not show it;
- ``runtime``: AWS names the resource at run time (an artifact object, a log stream): the grant
  covers the names it may choose, under a prefix the chain owns;
- ``path``: a path of the chain the recorded promotion does not take (a failure, a large build,
  a stage in another account);
- ``guard``: a Deny that only a request the chain never makes would hit;
- ``unneeded``: nothing needs it; reported for removal from the generator (issue 11).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Need:
    """Why the named actions of a statement stay although no recorded request needs them."""

    stage: str  # a stage's name, or "*" for every stage
    kind: str  # the policy's kind: "pipeline role", "key", "promotion role trust", ...
    statement: str  # its Sid
    actions: tuple[str, ...]  # exactly the actions explained
    category: str
    why: str


@dataclass(frozen=True)
class Width:
    """Why one granted value is wider than the recorded requests' use of it."""

    stage: str
    kind: str
    statement: str
    field: str  # "Resource", "Principal", "Condition" or "Action"
    granted: str  # the value, with <account>, <region>, <stage> for the stage's own
    category: str
    why: str


CATEGORIES = {
    "aws": "AWS needs it; the local cloud does not show it",
    "runtime": "AWS names the resource at run time, under a prefix the chain owns",
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

_ARTIFACT_NAMES = (
    "runtime",
    "CodePipeline names each artifact object at run time (<pipeline name>/<artifact name>/"
    "<random>, both names cut short), in the stage's own artifact bucket",
)

AWS_NEEDS: tuple[Need, ...] = (
    Need(
        "*",
        "copy function role",
        "ReportJobResult",
        ("codepipeline:PutJobFailureResult",),
        "path",
        "a failed promotion reports with it (the recorded one succeeded; the live mutations of "
        "test_least_privilege.py and the failure tests of test_chain.py use it)",
    ),
    Need(
        "*",
        "pipeline role",
        "ReadSource",
        ("s3:GetBucketVersioning",),
        "aws",
        "CodePipeline's S3 source action checks that the source bucket is versioned; the local "
        "action reads the object's current version without asking",
    ),
    Need(
        "*",
        "pipeline role",
        "UseConnection",
        ("codeconnections:UseConnection", "codestar-connections:UseConnection"),
        "aws",
        "CodePipeline's CodeStarSourceConnection action uses the connection as the pipeline role "
        "to fetch the commit from GitHub (its action reference's service-role permissions); both "
        "prefixes, for connections made before and after the CodeConnections rename. The local "
        "action reads the local repository behind the connection and makes no call that carries "
        "UseConnection (it is not an API operation), so the need cannot be shown here",
    ),
    Need(
        "*",
        "pipeline role",
        "ReadRepository",
        (
            "codecommit:GetBranch",
            "codecommit:UploadArchive",
            "codecommit:GetUploadArchiveStatus",
            "codecommit:CancelUploadArchive",
        ),
        "aws",
        "AWS's CodeCommit source action resolves the branch and has CodeCommit archive the commit "
        "into the artifact store as the pipeline role (the CodePipeline User Guide's permissions "
        "for a CodeCommit source); the local action reads the local repository directly and calls "
        "only GetCommit, so these cannot be shown here",
    ),
    Need(
        "*",
        "pipeline role",
        "UseStageKey",
        ("kms:DescribeKey",),
        "aws",
        "AWS's guide for pipelines with a customer-managed key grants it; the local CodePipeline "
        "never calls KMS itself (S3 does, on its behalf), so the need cannot be shown here",
    ),
    Need(
        "*",
        "pipeline role",
        "Deploy",
        (
            "codedeploy:GetApplication",
            "codedeploy:GetApplicationRevision",
            "codedeploy:RegisterApplicationRevision",
        ),
        *_CODEPIPELINE_DEPLOY,
    ),
    Need(
        "*",
        "pipeline role",
        "ReadDeploymentConfig",
        ("codedeploy:GetDeploymentConfig",),
        *_CODEPIPELINE_DEPLOY,
    ),
    Need(
        "*",
        "CodeDeploy role trust",
        "Trust",
        ("sts:AssumeRole",),
        "aws",
        "CodeDeploy assumes its service role to find the group's instances; the local CodeDeploy "
        "finds them itself and never assumes it",
    ),
    Need(
        "*",
        "CodeDeploy role",
        "FindInstancesByTag",
        ("ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "tag:GetResources"),
        "aws",
        "CodeDeploy finds the deployment group's instances by tag as this role; the local "
        "CodeDeploy reads its own records",
    ),
    Need(
        "*",
        "instance role",
        "InstallAgent",
        ("s3:GetObject",),
        "aws",
        "the CodeDeploy agent installs from aws-codedeploy-<region>; local instances run a "
        "stand-in agent",
    ),
    *(
        Need(
            "*",
            bucket,
            "DenyInsecureTransport",
            ("s3:*",),
            "guard",
            "denies plain-HTTP requests, which the chain never makes; test_iam_enforcement.py "
            "shows one denied by it",
        )
        for bucket in ("source bucket", "artifact bucket")
    ),
    Need(
        "*",
        "key",
        "CloudWatchLogsForCopyFunction",
        (
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyPair",
            "kms:GenerateDataKeyPairWithoutPlaintext",
            "kms:GenerateDataKeyWithoutPlaintext",
        ),
        "aws",
        "CloudWatch Logs encrypts the copy function's log group with the key; LocalStack's Logs "
        "never calls KMS",
    ),
    Need(
        "*",
        "promotion role",
        "DeliverBuild",
        ("s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"),
        *_MULTIPART,
    ),
    Need(
        "*",
        "promotion role",
        "EncryptBuild",
        ("kms:Decrypt",),
        "path",
        "completing a multipart upload decrypts the parts' data key; the recorded build is small",
    ),
)

WIDTH_NEEDS: tuple[Width, ...] = (
    Width(
        "*",
        "pipeline role",
        "ReadSource",
        "Resource",
        "arn:aws:s3:::<app>-<stage>-src-<account>-<region>",
        "aws",
        "the bucket itself, for s3:GetBucketVersioning (see its Need): the recorded requests "
        "read only the build object",
    ),
    Width(
        "*",
        "pipeline role",
        "UseArtifactStore",
        "Resource",
        "arn:aws:s3:::<app>-<stage>-art-<account>-<region>/*",
        *_ARTIFACT_NAMES,
    ),
    Width(
        "*",
        "pipeline role",
        "Deploy",
        "Resource",
        "arn:aws:codedeploy:<region>:<account>:application:<app>-<stage>",
        "aws",
        "the application, for GetApplication, GetApplicationRevision and "
        "RegisterApplicationRevision (see their Need); the local action names only the group",
    ),
    Width(
        "*",
        "copy function role",
        "WriteOwnLogs",
        "Resource",
        "arn:aws:logs:<region>:<account>:log-group:/aws/lambda/<app>-<stage>-promote:*",
        "runtime",
        "Lambda names each execution environment's log stream at run time, in the function's "
        "own log group",
    ),
    Width(
        "*",
        "instance role",
        "ReadRevisions",
        "Resource",
        "arn:aws:s3:::<app>-<stage>-art-<account>-<region>/*",
        *_ARTIFACT_NAMES,
    ),
    Width(
        "*",
        "key",
        "AccountIamDelegation",
        "Action",
        "kms:*",
        "aws",
        "AWS's default key policy: the account root keeps every key action, so IAM policies "
        "(each naming its actions on this key) decide and the account cannot lose its key",
    ),
    Width(
        "*",
        "key",
        "AccountIamDelegation",
        "Principal",
        "arn:aws:iam::<account>:root",
        "aws",
        "the same delegation: the key admits the account's own IAM policies, not roles by name",
    ),
)
