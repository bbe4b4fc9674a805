"""The codedeploy service of the local cloud (placeholder: every operation goes to moto)."""

from typing import Any


def create_service() -> Any:
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service
    from localstack.services.moto import call_moto
    from localstack.services.plugins import Service

    spec = load_service("codedeploy")

    def forward(context: Any, request: Any) -> Any:
        return call_moto(context)

    return Service("codedeploy", skeleton=Skeleton(spec, {op: forward for op in spec.operation_names}))
