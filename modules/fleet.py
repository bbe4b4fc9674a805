"""The stage's EC2 fleet: instances running the CodeDeploy agent, found by their stage tag."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformCount
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.data_aws_subnets import DataAwsSubnets, DataAwsSubnetsFilter
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.instance import (
    Instance,
    InstanceMetadataOptions,
    InstanceRootBlockDevice,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules import arns
from modules.ami import ami_parameter
from modules.policy import Statement, assume_role_statement
from modules.role import Role, RoleConfig

DEPLOYMENT_TAG_KEY = "DeploymentStage"
# The AL2023 AMI's snapshot size; stated explicitly because an encrypted root volume without a
# size is refused by EC2 emulators (AWS itself would take the snapshot's size).
ROOT_VOLUME_GB = 8
WINDOWS_ROOT_VOLUME_GB = 30  # the Windows Server 2022 Base AMI's snapshot size
RDP_PORT = 3389


def agent_user_data(region: str) -> str:
    """Installs the CodeDeploy agent from the stage's own region's AWS bucket, so a fleet never
    depends on another region being up."""
    return f"""#!/bin/bash
set -euo pipefail
dnf install -y ruby wget
cd /tmp
wget -q https://aws-codedeploy-{region}.s3.{region}.amazonaws.com/latest/install
chmod +x ./install
./install auto
systemctl enable --now codedeploy-agent
"""


def windows_agent_user_data(region: str) -> str:
    """The same for Windows Server, in PowerShell: the agent's MSI from the region's bucket
    (read with the instance role, which may read that bucket), installed quietly, started."""
    return f"""<powershell>
$ErrorActionPreference = "Stop"
New-Item -ItemType Directory -Force -Path C:\\temp | Out-Null
Read-S3Object -BucketName aws-codedeploy-{region} -Key latest/codedeploy-agent.msi `
  -File C:\\temp\\codedeploy-agent.msi -Region {region}
Start-Process msiexec.exe -Wait -ArgumentList `
  "/i C:\\temp\\codedeploy-agent.msi /quiet /l C:\\temp\\host-agent-install-log.txt"
Set-Service -Name codedeployagent -StartupType Automatic
Start-Service -Name codedeployagent
</powershell>
"""


@dataclass(frozen=True)
class RemoteAccess:
    """SSH (Linux) or RDP (Windows) from one network, with the key pair the instance gets."""

    cidr: str
    key_pair: str


@dataclass(frozen=True)
class FleetConfig:
    name: str
    role_name: str
    region: str
    partition: str
    instance_count: int
    instance_type: str
    tag_value: str
    http_ingress_cidr: str
    artifact_bucket_arn: str
    kms_key_arn: str
    ssh: RemoteAccess | None = None
    os: str = "linux"  # or "windows"
    rdp: RemoteAccess | None = None

    @property
    def remote(self) -> RemoteAccess | None:
        return self.rdp if self.os == "windows" else self.ssh


class Fleet(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, provider: AwsProvider, config: FleetConfig
    ) -> None:
        super().__init__(scope, id_)
        vpc = DataAwsVpc(self, "default-vpc", provider=provider, default=True)
        self.security_group = SecurityGroup(
            self,
            "security-group",
            provider=provider,
            name=config.name,
            vpc_id=vpc.id,
            description=f"xrdeploy fleet {config.name}: HTTP in, HTTPS out",
        )
        self._open_ports(provider, config)
        self.role = Role(
            self,
            "role",
            provider=provider,
            config=RoleConfig(
                name=config.role_name,
                description=f"CodeDeploy agent on the {config.name} fleet",
                trust=(assume_role_statement("Service", ("ec2.amazonaws.com",)),),
                permissions=agent_permissions(config),
            ),
        )
        profile = IamInstanceProfile(
            self, "profile", provider=provider, name=config.role_name, role=self.role.name
        )
        self.instances = self._launch(provider, config, vpc, profile)

    def _open_ports(self, provider: AwsProvider, config: FleetConfig) -> None:
        VpcSecurityGroupIngressRule(
            self,
            "http-in",
            provider=provider,
            security_group_id=self.security_group.id,
            description="HTTP to the sample web server",
            ip_protocol="tcp",
            from_port=80,
            to_port=80,
            cidr_ipv4=config.http_ingress_cidr,
        )
        if config.ssh is not None and config.os == "linux":
            self._admin_port(provider, "ssh-in", "SSH", 22, config.ssh.cidr)
        if config.rdp is not None and config.os == "windows":
            self._admin_port(provider, "rdp-in", "RDP", RDP_PORT, config.rdp.cidr)
        # The agent and dnf reach S3, CodeDeploy and the package mirrors over HTTPS only; their
        # addresses are AWS-owned and change, so no narrower CIDR exists without VPC endpoints.
        VpcSecurityGroupEgressRule(
            self,
            "https-out",
            provider=provider,
            security_group_id=self.security_group.id,
            description="HTTPS to AWS endpoints and package mirrors",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
        )

    def _admin_port(
        self, provider: AwsProvider, id_: str, protocol: str, port: int, cidr: str
    ) -> None:
        VpcSecurityGroupIngressRule(
            self,
            id_,
            provider=provider,
            security_group_id=self.security_group.id,
            description=f"{protocol} from the operator's network",
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4=cidr,
        )

    def _launch(
        self,
        provider: AwsProvider,
        config: FleetConfig,
        vpc: DataAwsVpc,
        profile: IamInstanceProfile,
    ) -> Instance:
        subnets = DataAwsSubnets(
            self,
            "default-subnets",
            provider=provider,
            filter=[DataAwsSubnetsFilter(name="vpc-id", values=[vpc.id])],
        )
        ami = DataAwsSsmParameter(
            self, "ami", provider=provider, name=ami_parameter(config.instance_type, config.os)
        )
        count = TerraformCount.of(config.instance_count)
        windows = config.os == "windows"
        return Instance(
            self,
            "instance",
            provider=provider,
            count=count,
            ami=ami.value,
            instance_type=config.instance_type,
            # Fn.element wraps around, spreading instances over the default VPC's subnets.
            subnet_id=Fn.element(subnets.ids, count.index),
            vpc_security_group_ids=[self.security_group.id],
            iam_instance_profile=profile.name,
            key_name=config.remote.key_pair if config.remote else None,
            user_data=windows_agent_user_data(config.region)
            if windows
            else agent_user_data(config.region),
            monitoring=True,
            ebs_optimized=True,
            metadata_options=InstanceMetadataOptions(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                # The sample app reads its Stage tag from the metadata service.
                instance_metadata_tags="enabled",
            ),
            root_block_device=InstanceRootBlockDevice(
                encrypted=True,
                volume_type="gp3",
                volume_size=WINDOWS_ROOT_VOLUME_GB if windows else ROOT_VOLUME_GB,
            ),
            tags={"Name": f"{config.name}-${{count.index}}", DEPLOYMENT_TAG_KEY: config.tag_value},
        )


def agent_permissions(config: FleetConfig) -> tuple[Statement, ...]:
    """The CodeDeploy agent installs itself from its region's AWS bucket and reads revisions."""
    installer_bucket = arns.s3_bucket(config.partition, f"aws-codedeploy-{config.region}")
    return (
        Statement(
            sid="InstallAgent",
            actions=("s3:GetObject",),
            resources=(f"{installer_bucket}/*",),
        ),
        Statement(
            sid="ReadRevisions",
            actions=("s3:GetObject",),  # the revision CodePipeline names, by key
            resources=(f"{config.artifact_bucket_arn}/*",),
        ),
        Statement(
            sid="DecryptRevisions",
            actions=("kms:Decrypt",),
            resources=(config.kms_key_arn,),
        ),
    )
