"""How much of this machine's CPU the hypervisor took (steal) while a run or a check went on.

On a virtual machine the host can give a vCPU to another guest while ours wants
to run; Linux counts that time as steal (``/proc/stat``, read through psutil). It
comes in bursts: on the 2-core machine this was built on, most seconds had none
and some lost 10–40 % of both cores, and a stretch of training that lost a share
s of the CPU ran about 2–3·s slower (a step waits for both cores). Turns pair neighbours under the same
conditions, but a burst that hits one turn and not the next widens every interval;
a user reading a verdict should know the machine was shared.
"""

from __future__ import annotations

import psutil

NOTICE_SHARE = 0.02  # below this a run's steal is within what a dedicated machine shows


def cpu_seconds() -> tuple[float, float] | None:
    """(steal seconds, all CPU seconds) since boot; None where the system reports no steal (off Linux)."""
    times = psutil.cpu_times()
    if not hasattr(times, "steal"):
        return None
    # Linux counts a guest's own guests inside user and nice already: not twice.
    total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
    return times.steal, total


class StealMeter:
    """Steal from its creation until ``share()`` is asked."""

    def __init__(self):
        self._start = cpu_seconds()

    def share(self) -> float | None:
        """Steal ÷ all CPU time since the meter was made; None without a reading (off Linux, no time passed)."""
        end = cpu_seconds()
        if self._start is None or end is None or end[1] <= self._start[1]:
            return None
        return (end[0] - self._start[0]) / (end[1] - self._start[1])


def steal_sentence(share: float | None, during: str = "the run") -> str:
    """"the hypervisor took 8.7% of this machine's CPU during the run (steal): …", or "" when it took little."""
    if share is None or share < NOTICE_SHARE:
        return ""
    return (f"the hypervisor took {share:.1%} of this machine's CPU during {during} (steal: a shared virtual "
            "machine), which slows whichever runner it hits and widens the intervals")
