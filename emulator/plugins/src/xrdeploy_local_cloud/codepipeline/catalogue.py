"""The built-in action types every account sees in ListActionTypes, as AWS lists them.

Each entry: its id, the artifacts it takes and gives (minimum, maximum) and its configuration
properties (name, required, key, secret, queryable). The local engine runs a few of them
(:data:`.engine.HANDLERS`); the others are listed as AWS lists them, and an action of such a type
fails with ``ConfigurationError`` when it runs.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Prop(NamedTuple):
    name: str
    required: bool = False
    secret: bool = False
    key: bool = True
    queryable: bool = False


class Builtin(NamedTuple):
    category: str
    owner: str
    provider: str
    inputs: tuple[int, int]
    outputs: tuple[int, int]
    properties: tuple[Prop, ...]


def _p(*required: str) -> tuple[Prop, ...]:
    return tuple(Prop(name, required=True) for name in required)


def _o(*optional: str) -> tuple[Prop, ...]:
    return tuple(Prop(name) for name in optional)


BUILTIN: tuple[Builtin, ...] = (
    Builtin(
        "Source",
        "AWS",
        "S3",
        (0, 0),
        (1, 1),
        _p("S3Bucket", "S3ObjectKey") + _o("PollForSourceChanges", "AllowOverrideForS3ObjectKey"),
    ),
    Builtin(
        "Source",
        "AWS",
        "CodeCommit",
        (0, 0),
        (1, 1),
        _p("RepositoryName", "BranchName") + _o("PollForSourceChanges", "OutputArtifactFormat"),
    ),
    Builtin("Source", "AWS", "ECR", (0, 0), (1, 1), _p("RepositoryName") + _o("ImageTag")),
    Builtin(
        "Source",
        "AWS",
        "CodeStarSourceConnection",
        (0, 0),
        (1, 1),
        _p("ConnectionArn", "FullRepositoryId", "BranchName")
        + _o("OutputArtifactFormat", "DetectChanges"),
    ),
    Builtin(
        "Source",
        "ThirdParty",
        "GitHub",
        (0, 0),
        (1, 1),
        (
            *_p("Owner", "Repo", "Branch"),
            Prop("OAuthToken", required=True, secret=True),
            *_o("PollForSourceChanges"),
        ),
    ),
    Builtin(
        "Build",
        "AWS",
        "CodeBuild",
        (1, 5),
        (0, 5),
        _p("ProjectName")
        + _o("PrimarySource", "BatchEnabled", "CombineArtifacts", "EnvironmentVariables"),
    ),
    Builtin(
        "Build",
        "AWS",
        "ECRBuildAndPublish",
        (1, 1),
        (0, 0),
        _p("ECRRepositoryName") + _o("DockerFilePath", "ImageTags", "RegistryType"),
    ),
    Builtin(
        "Test",
        "AWS",
        "CodeBuild",
        (1, 5),
        (0, 5),
        _p("ProjectName")
        + _o("PrimarySource", "BatchEnabled", "CombineArtifacts", "EnvironmentVariables"),
    ),
    Builtin(
        "Test",
        "AWS",
        "DeviceFarm",
        (1, 1),
        (0, 0),
        _p("ProjectId", "DevicePoolArn", "AppType", "TestType")
        + _o("App", "Test", "RadioBluetoothEnabled"),
    ),
    Builtin(
        "Deploy",
        "AWS",
        "S3",
        (1, 1),
        (0, 0),
        _p("BucketName", "Extract")
        + _o("ObjectKey", "KMSEncryptionKeyARN", "CannedACL", "CacheControl"),
    ),
    Builtin(
        "Deploy", "AWS", "CodeDeploy", (1, 1), (0, 0), _p("ApplicationName", "DeploymentGroupName")
    ),
    Builtin(
        "Deploy",
        "AWS",
        "CodeDeployToECS",
        (1, 3),
        (0, 0),
        _p(
            "ApplicationName",
            "DeploymentGroupName",
            "TaskDefinitionTemplateArtifact",
            "AppSpecTemplateArtifact",
        )
        + _o(
            "TaskDefinitionTemplatePath",
            "AppSpecTemplatePath",
            "Image1ArtifactName",
            "Image1ContainerName",
        ),
    ),
    Builtin(
        "Deploy",
        "AWS",
        "CloudFormation",
        (0, 10),
        (0, 1),
        _p("ActionMode", "StackName")
        + _o(
            "Capabilities",
            "ChangeSetName",
            "OutputFileName",
            "ParameterOverrides",
            "RoleArn",
            "TemplateConfiguration",
            "TemplatePath",
        ),
    ),
    Builtin(
        "Deploy",
        "AWS",
        "CloudFormationStackSet",
        (1, 10),
        (0, 0),
        _p("StackSetName", "TemplatePath")
        + _o("Parameters", "Capabilities", "DeploymentTargets", "Regions"),
    ),
    Builtin(
        "Deploy",
        "AWS",
        "ECS",
        (1, 1),
        (0, 0),
        _p("ClusterName", "ServiceName") + _o("FileName", "DeploymentTimeout"),
    ),
    Builtin(
        "Deploy",
        "AWS",
        "ElasticBeanstalk",
        (1, 1),
        (0, 0),
        _p("ApplicationName", "EnvironmentName"),
    ),
    Builtin(
        "Deploy",
        "AWS",
        "AppConfig",
        (1, 1),
        (0, 0),
        _p(
            "Application",
            "Environment",
            "ConfigurationProfile",
            "InputArtifactConfigurationPath",
            "DeploymentStrategy",
        ),
    ),
    Builtin(
        "Deploy",
        "AWS",
        "ServiceCatalog",
        (1, 1),
        (0, 0),
        _p("TemplateFilePath", "ProductVersionName", "ProductType", "ProductId")
        + _o("ProductVersionDescription"),
    ),
    Builtin(
        "Approval",
        "AWS",
        "Manual",
        (0, 0),
        (0, 0),
        _o("NotificationArn", "CustomData", "ExternalEntityLink"),
    ),
    Builtin("Invoke", "AWS", "Lambda", (0, 5), (0, 5), _p("FunctionName") + _o("UserParameters")),
    Builtin(
        "Invoke",
        "AWS",
        "StepFunctions",
        (0, 1),
        (0, 1),
        _p("StateMachineArn") + _o("ExecutionNamePrefix", "InputType", "Input"),
    ),
    Builtin("Compute", "AWS", "Commands", (1, 10), (0, 1), _p("Commands")),
)


def type_id(builtin: Builtin) -> dict[str, str]:
    return {
        "category": builtin.category,
        "owner": builtin.owner,
        "provider": builtin.provider,
        "version": "1",
    }


def listed(builtin: Builtin) -> dict[str, Any]:
    """A built-in type in ListActionTypes' ``ActionType`` shape."""
    return {
        "id": type_id(builtin),
        "settings": {},
        "actionConfigurationProperties": [
            {
                "name": p.name,
                "required": p.required,
                "key": p.key,
                "secret": p.secret,
                "queryable": p.queryable,
                "type": "String",
            }
            for p in builtin.properties
        ],
        "inputArtifactDetails": {
            "minimumCount": builtin.inputs[0],
            "maximumCount": builtin.inputs[1],
        },
        "outputArtifactDetails": {
            "minimumCount": builtin.outputs[0],
            "maximumCount": builtin.outputs[1],
        },
    }


def find(category: str, owner: str, provider: str, version: str) -> Builtin | None:
    if version != "1":
        return None
    wanted = (category, owner, provider)
    return next((b for b in BUILTIN if (b.category, b.owner, b.provider) == wanted), None)


def declaration(builtin: Builtin) -> dict[str, Any]:
    """A built-in type in GetActionType's ``ActionTypeDeclaration`` shape. AWS publishes no
    executor of its own types; a job worker is what a third-party type of this shape uses."""
    return {
        "executor": {"configuration": {"jobWorkerExecutorConfiguration": {}}, "type": "JobWorker"},
        "id": type_id(builtin),
        "inputArtifactDetails": {
            "minimumCount": builtin.inputs[0],
            "maximumCount": builtin.inputs[1],
        },
        "outputArtifactDetails": {
            "minimumCount": builtin.outputs[0],
            "maximumCount": builtin.outputs[1],
        },
        "properties": [
            {
                "name": p.name,
                "optional": not p.required,
                "key": p.key,
                "noEcho": p.secret,
                "queryable": p.queryable,
            }
            for p in builtin.properties
        ],
        "urls": {},
    }
