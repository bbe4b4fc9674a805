"""EventBridge → CodePipeline target (placeholder)."""


def register() -> None:
    return None
