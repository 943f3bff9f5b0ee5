"""The schedules: how the runners of one run share the machine. Chosen once, from a name, where the plan is
made (``runners.session.planning.plan``); the plan carries the object, and the launcher, the planner's memory check and
the views ask it what it means instead of comparing names."""

from __future__ import annotations

from dataclasses import dataclass

from workloads.errors import InputError


@dataclass(frozen=True)
class Schedule:
    name: str
    description: str
    alone: bool  # each runner trains with the whole machine (all its CPUs, the whole GPU)
    takes_turns: bool  # all start at once, then one trains at a time, a turn of --slice seconds each
    queued: bool  # one runner after another: the next starts when the last has ended
    across_hosts: bool  # can run with --hosts (other hosts' ranks cannot be stopped with this host's signals)

    @property
    def all_in_memory(self) -> bool:
        """Every runner's process is alive at once (its data and model held), not one at a time."""
        return not self.queued

    def describe(self, slice_s: float) -> str:
        """"interleaved (3 s turns)": for the settings tab."""
        return f"{self.name} ({slice_s:g} s turns)" if self.takes_turns else self.name


SCHEDULES = {
    schedule.name: schedule
    for schedule in (
        Schedule("interleaved", "every runner live, taking turns with the whole machine, each figure measured "
                 "alone, ratios with 95% intervals", alone=True, takes_turns=True, queued=False, across_hosts=False),
        Schedule("parallel", "a race sharing the machine", alone=False, takes_turns=False, queued=False,
                 across_hosts=True),
        Schedule("sequential", "one runner after another", alone=True, takes_turns=False, queued=True,
                 across_hosts=True),
    )
}
INTERLEAVED, PARALLEL, SEQUENTIAL = (SCHEDULES[name] for name in ("interleaved", "parallel", "sequential"))


def schedule_named(name: "str | Schedule | None", hosts: int = 1) -> Schedule:
    """The schedule a name stands for; None: the default (interleaved, or parallel across hosts)."""
    if isinstance(name, Schedule):
        return name
    if name is None:
        return PARALLEL if hosts > 1 else INTERLEAVED
    if name not in SCHEDULES:
        raise InputError(f"unknown schedule {name!r} (known: {', '.join(SCHEDULES)})")
    return SCHEDULES[name]
