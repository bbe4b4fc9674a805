"""The local rehearsal: the local cloud started through its CLI, the chain deployed into it, the
demo that runs a build through it and the pages its fleets serve."""
