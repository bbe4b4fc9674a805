"""One invocation's share of a promotion: its deadline guard, its log and what it has moved."""

from __future__ import annotations

from dataclasses import dataclass

from deadline import Guard
from logs import JobLog
from outcomes import Paused

# Stop starting new parts once less than this is left of the invocation: an 8 MiB part takes well
# under a second in-region, and completing, verifying and reporting need a few seconds more. The
# rest is headroom for a slow cross-region upload with retries.
SAFETY_MARGIN_S = 30.0
# Clean-up requests still go out after the deadline guard's time has come: leaving an upload
# behind is worse than a request Lambda may cut short.
_CLEANUP_OPERATIONS = {"AbortMultipartUpload"}


@dataclass
class Invocation:
    guard: Guard[Paused]
    log: JobLog
    parts_done: int = 0
    bytes_read: int = 0
    bytes_written: int = 0

    def may_start_part(self) -> bool:
        """False once too little time is left for another part; raises Stop past the guard's."""
        self.guard.check()
        # The first part is never refused: every invocation must move forward, or a function
        # timeout shorter than the margin would loop through continuations forever.
        return self.parts_done == 0 or self.guard.time_left() >= SAFETY_MARGIN_S

    def before_attempt(self, operation: str) -> None:
        """Run by the clients before every attempt of every request."""
        if operation not in _CLEANUP_OPERATIONS:
            self.guard.check()

    def keeps(self, upload_id: str | None) -> bool:
        """After Stop: whether the guard's result is a token resuming upload_id, so it must stay."""
        verdict = self.guard.expire()
        return (
            isinstance(verdict, Paused)
            and upload_id is not None
            and (verdict.upload_id == upload_id)
        )
