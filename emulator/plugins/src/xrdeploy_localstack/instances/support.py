"""Whether this host can back local instances (placeholder)."""


def report() -> None:
    return None
