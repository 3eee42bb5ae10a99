"""Work done on a clock rather than on a request: run by every `refunddesk worker` once a
minute (in a thread next to its task loop) and by `refunddesk sweep` for cron."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connections
from django.utils import timezone

from refunddesk.cases.sweeping import SweepResult, sweep_deadlines

log = logging.getLogger(__name__)


def run_periodic() -> SweepResult:
    result = sweep_deadlines(timezone.now())
    if any(vars(result).values()):
        log.info("deadline sweep: %s", result)
    return result


class PeriodicThread(threading.Thread):
    """Runs `run_periodic` every `seconds` until stopped; an error is logged, not fatal."""

    def __init__(self, seconds: float):
        super().__init__(name="refunddesk-periodic", daemon=True)
        self.seconds = seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.seconds):
            close_old_connections()
            try:
                run_periodic()
            except Exception:
                log.exception("the periodic sweep failed; it runs again in %ss", self.seconds)
            finally:
                connections.close_all()

    def stop(self) -> None:
        self.stopped.set()
