"""The live event source: one subprocess per runner spec, their channels pumped into one queue.

It starts the children and pumps their channels; who starts when is ``turns``, what is
recorded is ``event_record``, other hosts' ranks are ``joined_hosts`` and the user's
controls are ``controls``. Each child runs in its own session (so a terminal's Ctrl-C
reaches only the dashboard, which then stops them in order) and dies with the dashboard
through the parent-death signal set in ``runners.child``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
from pathlib import Path
from typing import AsyncIterator

from runners.config import RunConfig
from runners.protocol import EVENT_FD_ENV, FINISH_SIGNAL, PARENT_PID_ENV, TAKES_TURNS_ENV, Error, Event, Phase
from runners.session.launching.channel_reader import ChannelDecoder, ChannelReader
from runners.session.launching.controls import ProcessControls
from runners.session.launching.endings import DurationBudget, PrecisionGoal, StateFold, TurnCount
from runners.session.launching.event_record import EventRecord, line_of
from runners.session.launching.exit_reason import exit_reason
from runners.session.launching.joined_hosts import JoinedHosts
from runners.session.launching.processes import signal_group, terminate
from runners.session.launching.runner_environment import (
    data_parallel_environment,
    framework_environment,
    runner_module,
)
from runners.session.launching.turns import Turns
from runners.session.planning.cpu_share import plan_cpu_shares, thread_environment
from runners.session.planning.defaults import DEFAULT_REFRESH_HZ, DEFAULT_SLICE_S
from runners.session.planning.schedules import Schedule, schedule_named
from runners.session.record.run_folder import RunFolder
from runners.session.state.runner_state import RunnerState
from runners.session.verdict.precision import side_by_side
from runners.specs import RunnerSpec

_ENDED = object()
READ_EVERY_S = 1 / DEFAULT_REFRESH_HZ


@dataclasses.dataclass
class _Child:
    spec: RunnerSpec
    config: RunConfig
    gpus: list[int] = dataclasses.field(default_factory=list)  # CUDA_VISIBLE_DEVICES; none on the CPU
    process: asyncio.subprocess.Process | None = None
    pump: asyncio.Task | None = None
    ended: bool = False  # sent "done" or "failed"
    stop_requested: bool = False  # the user stopped it (k), or restarts it (r)
    # Failed from another host (its ranks there failed, or the host dropped): what its ranks here still say (they
    # are being stopped) is neither recorded nor shown.
    failed_elsewhere: bool = False

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None


class _Channel:
    """What the channel thread hands back with a runner's events: whose they are and where they go."""

    def __init__(self, child: _Child, record, loop: asyncio.AbstractEventLoop):
        self.child, self.record, self.loop = child, record, loop
        self.closed = loop.create_future()  # set once the runner's channel reached EOF


class Launcher:
    """The live event source (``runners.session.sources.EventSource``)."""

    live = True  # real processes: the dashboard samples their CPU, memory and GPU use
    replay = None  # live: nothing to play back

    def __init__(
        self,
        specs: list[RunnerSpec],
        config: RunConfig,
        folder: RunFolder,
        cpus: list[int],
        overrides: dict[str, dict] | None = None,
        schedule: "Schedule | str" = "parallel",
        gpus: list[int] | None = None,
        read_every_s: float = READ_EVERY_S,
        slice_s: float = DEFAULT_SLICE_S,
        until: float | None = None,
        turns: int | None = None,
    ):
        """Runners on ``config.device``; with ``gpus``, assigned to them round-robin, ``config.devices`` each.

        ``schedule`` (``runners.session.planning.schedules``, or its name): interleaved (all start at
        once and take turns of ``slice_s`` seconds, one at a time with the whole machine),
        parallel (all at once: a race, sharing the machine) or sequential (one after another).
        ``overrides`` changes one runner's config (tests inject a crash this way).
        ``read_every_s``: how often the channels are read while events keep coming; a
        dashboard passes its frame interval, so each read makes one frame.
        ``until``: every runner finishes once the headline comparisons are this sure (0.05: ±5 %).
        ``turns``: each runner finishes after this many timed turns.
        """
        schedule = schedule_named(schedule)
        shares = [list(cpus)] * len(specs) if schedule.alone else plan_cpu_shares(len(specs), cpus)
        overrides = overrides or {}
        self._children = {
            spec.name: _Child(
                spec,
                dataclasses.replace(config, threads=len(share), cpus=share, **overrides.get(spec.name, {})),
                gpus=_gpus_of(index, gpus, config.devices) if config.device == "cuda" and gpus else [],
            )
            for index, (spec, share) in enumerate(zip(specs, shares))
        }
        self.folder = folder
        self.runner_names = [spec.name for spec in specs]
        self.total_steps = config.settings.steps
        self.duration_s = config.duration_s
        self.until = until
        # What ends runners early, besides their step count.
        fold = self._fold = StateFold(self.total_steps)  # one fold of the events for every ending and the turn order
        self._endings = ([DurationBudget(config.duration_s, self.total_steps, fold)] if config.duration_s else []) + (
            [PrecisionGoal(until, self.total_steps, fold)] if until else []) + (
            [TurnCount(turns, self.total_steps, fold)] if turns else [])
        self.schedule = schedule
        self.slice_s = slice_s
        self._record = EventRecord(folder)
        self._channels: list[ChannelDecoder] = []
        self._reader = ChannelReader(self._hand_over, pace_s=read_every_s)
        self._queue: asyncio.Queue = asyncio.Queue()
        self._turns = Turns(schedule, slice_s, self)
        self.controls = ProcessControls(self, self._turns)  # pause, resume, stop and restart real processes
        self._hosts = JoinedHosts()
        self._pumps: list[asyncio.Task] = []
        self.stopping = False
        # Runners whose end events() still waits for; a restart adds one.
        self._remaining = len(self._children)

    # The event-source interface (runners.session.sources).

    @property
    def bad_lines(self) -> int:
        """Channel lines that were not valid events: counted, skipped, shown."""
        return sum(channel.bad_lines for channel in self._channels)

    @property
    def record_error(self) -> str | None:
        return self._record.error

    def new_state(self, runner: str) -> RunnerState:
        return RunnerState(runner, self.total_steps, self.duration_s)

    def output_path(self, runner: str) -> Path:
        return self.folder.output_path(self._children[runner].spec)

    def describe(self) -> str:
        return f"{len(self._children)} runners live, {self.schedule.name} schedule, recording to {self.folder.path}"

    def pids(self) -> dict[str, int]:
        """The process of every runner started so far."""
        return {name: c.process.pid for name, c in self._children.items() if c.process}

    def sharing(self) -> dict[str, list[str]]:
        """For each runner, the others that train at the same time on the same CPUs or GPU."""
        if self.schedule.alone:
            return {name: [] for name in self._children}
        return {
            name: [
                other for other, o in self._children.items()
                if other != name and (set(o.config.cpus) & set(child.config.cpus) or set(o.gpus) & set(child.gpus))
            ]
            for name, child in self._children.items()
        }

    async def start(self) -> None:
        if self._hosts.hosts:
            self._hosts.watch(self._deliver_remote, self._host_dropped)
        await self._turns.start(list(self._children.values()))

    async def events(self) -> AsyncIterator[Event]:
        """Every event until every runner has ended; call again after a restart."""
        while self._remaining:
            item = await self._queue.get()
            if item is _ENDED:
                self._remaining -= 1
            else:
                yield item

    async def stop(self, grace_s: float = 3.0) -> None:
        """SIGTERM every runner's process group, then SIGKILL what is left after ``grace_s``."""
        self.stopping = True
        await self._turns.stop_all()
        finished = all(c.ended for c in self._children.values())
        await terminate([c.process for c in self._children.values() if c.alive], grace_s)
        await self._hosts.close(let_them_leave=finished)
        if self._pumps:
            await asyncio.gather(*self._pumps, return_exceptions=True)

    def kill_now(self) -> None:
        """Synchronous last resort (interpreter exit): SIGKILL every runner still alive."""
        for child in self._children.values():
            if child.alive:
                signal_group(child.process.pid, signal.SIGKILL)

    def add_hosts(self, hosts: list, node_environment: dict[str, dict[str, str]]) -> None:
        """Before start(): every runner also trains on these joined hosts (``runners.session.hosts.gate``)."""
        self._hosts.add(hosts, node_environment)

    # What turns and controls ask of the launcher.

    @property
    def children(self) -> list[_Child]:
        return list(self._children.values())

    def child(self, runner: str) -> _Child:
        return self._children[runner]

    def arrange_round(self, order: list[_Child]) -> list[_Child]:
        """The next round's order: the headline comparisons' turns side by side (``precision.side_by_side``)."""
        rates = {name: state.throughput[0] for name, state in self._fold.states.items()}
        by_name = {child.spec.name: child for child in order}
        return [by_name[name] for name in side_by_side(list(by_name), rates)]

    async def announce(self, child: _Child, event: Event) -> None:
        """An event the launcher says for a runner: recorded and queued like the runner's own."""
        self._record.append(child.spec, event)
        self._watch_endings(event)
        await self._queue.put(event)

    async def never_starts(self) -> None:
        """A runner that will not start has ended, as far as events() is concerned."""
        await self._queue.put(_ENDED)

    def expect_another_end(self) -> None:
        """A runner restarts: events() waits for its second end too."""
        self._remaining += 1

    async def spawn(self, child: _Child) -> None:
        read_fd, write_fd = os.pipe()
        # Appended, not truncated: a restarted runner's earlier output stays readable.
        with open(self.folder.output_path(child.spec), "ab") as output:
            child.process = await asyncio.create_subprocess_exec(
                *self._child_command(child),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
                env=self._environment(child, write_fd),
                pass_fds=(write_fd,),
                start_new_session=True,
            )
        os.close(write_fd)  # only the child writes; EOF then means the child is gone
        child.pump = asyncio.create_task(self._pump(child, read_fd))
        self._pumps.append(child.pump)

    # Starting and pumping one runner.

    def _child_command(self, child: _Child) -> list[str]:
        return [sys.executable, "-m", runner_module(child.spec, child.config), child.spec.name, child.config.to_json()]

    def _environment(self, child: _Child, event_fd: int) -> dict[str, str]:
        env = framework_environment(child.spec.backend, child.config.device, child.gpus)
        env.update(thread_environment(child.config.threads))
        env.update(data_parallel_environment(child.spec.backend, child.config.device, child.config.devices))
        env.update(self._hosts.environment(child.spec.name))
        env.update({EVENT_FD_ENV: str(event_fd), PARENT_PID_ENV: str(os.getpid()), "PYTHONUNBUFFERED": "1"})
        if self.schedule.takes_turns:
            env[TAKES_TURNS_ENV] = "1"
        if not child.config.tf32:
            env["NVIDIA_TF32_OVERRIDE"] = "0"  # cuBLAS/cuDNN refuse TF32 whatever a framework asks
        return env

    async def _pump(self, child: _Child, read_fd: int) -> None:
        """Events of one runner into the queue: read, decoded and recorded on the channel thread."""
        record = self._record.open(child.spec)
        decoder = ChannelDecoder(lambda line: None if child.failed_elsewhere else self._record.write(record, line))
        self._channels.append(decoder)
        channel = _Channel(child, record, asyncio.get_running_loop())
        self._reader.watch(read_fd, decoder, channel)
        try:
            await channel.closed
            returncode = await child.process.wait()
            if not child.ended:
                for event in self._exit_events(child, returncode):
                    self._record.write(record, line_of(event))
                    await self._queue.put(event)
        finally:
            self._record.close(record)
            await self._queue.put(_ENDED)
        await self._turns.ended(child)

    def _hand_over(self, batches: list[tuple["_Channel", list[Event], bool]]) -> None:
        """On the channel thread, after each pass: records flushed, then one wake-up of the loop for all."""
        for channel, _, _ in batches:
            self._record.flush(channel.record)
        batches[0][0].loop.call_soon_threadsafe(self._deliver, batches)

    def _deliver(self, batches: list[tuple["_Channel", list[Event], bool]]) -> None:
        for channel, events, closed in batches:
            for event in events:
                if channel.child.failed_elsewhere:
                    continue
                if isinstance(event, Phase) and event.phase in ("done", "failed"):
                    channel.child.ended = True
                elif isinstance(event, Phase) and event.phase == "waiting":
                    self._turns.yielded(channel.child)  # it gives its turn back
                self._watch_endings(event)
                self._queue.put_nowait(event)
            if closed:
                channel.closed.set_result(None)  # after its last events: they are queued first

    def _watch_endings(self, event: Event) -> None:
        """Ask runners to finish once their --duration is spent, or the run is as sure as --until asks."""
        if self.schedule.takes_turns:
            self._fold.fold(event)  # the turn order reads it, with or without an ending (which fold it anyway)
        for ending in self._endings:
            for name in ending.to_finish(event):
                child = self._children.get(name)
                if child is not None and child.alive:
                    try:
                        os.kill(child.process.pid, FINISH_SIGNAL)  # the runner itself, not its compile workers
                    except ProcessLookupError:
                        pass

    def _exit_events(self, child: _Child, returncode: int) -> list[Event]:
        """The runner ended without saying so: say it for it, from what the OS tells us."""
        name = child.spec.name
        if self.stopping or child.stop_requested:
            return [Phase(name, "stopped")]
        output = self._output(child)
        return [
            Error(name, error_type="RunnerExited", message=exit_reason(returncode, output),
                  traceback="\n".join(output.splitlines()[-15:])),
            Phase(name, "failed"),
        ]

    def _output(self, child: _Child) -> str:
        try:
            return self.folder.output_path(child.spec).read_text(errors="replace")
        except OSError:
            return ""

    # Other hosts' ranks of the same runners.

    def _deliver_remote(self, event: Event) -> None:
        """An event of another host's ranks: recorded and shown as the runner's own. Once the runner has ended,
        the other ranks' errors (they die of its going) are left out; a failure there ends the ranks here."""
        child = self._children.get(event.runner)
        if child is None:
            return
        failed = isinstance(event, Phase) and event.phase == "failed"
        if child.ended and (failed or isinstance(event, Error)):
            return
        self._record.append(child.spec, event)
        if failed:
            child.ended = child.failed_elsewhere = True
            if child.alive:  # its ranks here would wait for the dead ones in the next all-reduce
                signal_group(child.process.pid, signal.SIGTERM)
        self._queue.put_nowait(event)

    def _host_dropped(self, host) -> None:
        if self.stopping:
            return
        for child in self._children.values():
            if not child.ended:
                name = child.spec.name
                self._deliver_remote(Error(name, error_type="HostDropped", message=(
                    f"host {host.name} ({host.address}, node {host.node_rank}) dropped out of the run")))
                self._deliver_remote(Phase(name, "failed"))


def _gpus_of(index: int, gpus: list[int], devices: int) -> list[int]:
    """Runner ``index``'s GPUs: the next ``devices`` of ``gpus``, round-robin (shared once every GPU has a runner)."""
    return [gpus[(index * devices + k) % len(gpus)] for k in range(devices)]


async def run_headless(launcher: Launcher, on_event) -> None:
    """Start the runners, hand every event to ``on_event``, and stop them whatever happens."""
    try:
        await launcher.start()
        async for event in launcher.events():
            on_event(event)
    finally:
        await launcher.stop()
