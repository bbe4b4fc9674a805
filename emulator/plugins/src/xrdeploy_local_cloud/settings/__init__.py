"""Settings of the local cloud that can change while it runs: the values (:mod:`.store`) and
their HTTP API (:mod:`.api`)."""
