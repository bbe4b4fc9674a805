"""EC2 fixes for the generated fleet (placeholder)."""


def apply() -> None:
    return None
