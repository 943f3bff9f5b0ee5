"""The live event source: one subprocess per runner spec, their channels pumped into one queue.

It owns the children's lifetime: each runs in its own session (so a terminal's
Ctrl-C reaches only the dashboard, which then stops them in order) and dies
with the dashboard through the parent-death signal set in ``runners.child``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import AsyncIterator

from runners.config import RunConfig
from runners.protocol import (
    EVENT_FD_ENV,
    FINISH_SIGNAL,
    PARENT_PID_ENV,
    TAKES_TURNS_ENV,
    Error,
    Event,
    Phase,
    ProtocolError,
    decode,
)
from runners.session.budget import DurationBudget
from runners.session.channel_reader import ChannelDecoder, ChannelReader
from runners.session.cpu_share import plan_cpu_shares, thread_environment
from runners.session.defaults import DEFAULT_REFRESH_HZ, DEFAULT_SLICE_S
from runners.session.exit_reason import exit_reason
from runners.session.recording import RunFolder
from runners.session.rotation import Rotation
from runners.session.schedules import Schedule, schedule_named
from runners.session.runner_environment import data_parallel_environment, framework_environment, runner_module
from runners.session.state import RunnerState
from runners.specs import RunnerSpec

_ENDED = object()
READ_EVERY_S = 1 / DEFAULT_REFRESH_HZ
# At the end of a run, how long joined hosts get to end their ranks and say they leave before they are told to stop.
HOSTS_LEAVE_S = 15.0



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
    """The live event source (``runners.session.sources.EventSource``), with runner controls."""

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
    ):
        """Runners on ``config.device``; with ``gpus``, assigned to them round-robin, ``config.devices`` each.

        ``schedule`` (``runners.session.schedules``, or its name): interleaved (all start at
        once and take turns of ``slice_s`` seconds, one at a time with the whole machine),
        parallel (all at once: a race, sharing the machine) or sequential (one after another).
        ``overrides`` changes one runner's config (tests inject a crash this way).
        ``read_every_s``: how often the channels are read while events keep coming; a
        dashboard passes its frame interval, so each read makes one frame.
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
        self._budget = DurationBudget(config.duration_s, self.total_steps) if config.duration_s else None
        self.schedule = schedule
        self._channels: list[ChannelDecoder] = []
        self._reader = ChannelReader(self._hand_over, pace_s=read_every_s)
        self.record_error: str | None = None
        self._queue: asyncio.Queue = asyncio.Queue()
        self._waiting: list[_Child] = []  # sequential: runners whose turn has not come
        self.slice_s = slice_s
        self._rotation = Rotation(slice_s, self._announce) if schedule.takes_turns else None
        self._turn_tasks: set[asyncio.Task] = set()
        self._pumps: list[asyncio.Task] = []
        self._stopping = False
        self.paused = False
        # Runners whose end events() still waits for; a restart adds one.
        self._remaining = len(self._children)
        self._hosts: list = []  # other hosts' shares of every runner (--hosts): runners.session.host_gate.JoinedHost
        self._node_environment: dict[str, dict[str, str]] = {}

    @property
    def bad_lines(self) -> int:
        """Channel lines that were not valid events: counted, skipped, shown."""
        return sum(channel.bad_lines for channel in self._channels)

    @property
    def controls(self) -> "Launcher":
        """Pause, resume, stop and restart act on the runners' real processes."""
        return self

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
        result = {}
        for name, child in self._children.items():
            result[name] = [
                other for other, o in self._children.items()
                if other != name and (
                    set(o.config.cpus) & set(child.config.cpus)
                    or set(o.gpus) & set(child.gpus)
                )
            ]
        return result

    def add_hosts(self, hosts: list, node_environment: dict[str, dict[str, str]]) -> None:
        """Before start(): every runner also trains on these joined hosts; ``node_environment`` is what each
        runner's process here needs to meet them (node 0)."""
        self._hosts, self._node_environment = hosts, node_environment

    def _watch_hosts(self) -> None:
        loop = asyncio.get_running_loop()
        for host in self._hosts:
            threading.Thread(target=self._read_host, args=(host, loop), daemon=True).start()

    def _read_host(self, host, loop: asyncio.AbstractEventLoop) -> None:
        """On a thread: a joined host's event lines, until it leaves (it says so) or drops."""
        left = False
        try:
            for line in host.lines:
                if line.startswith(b'{"left"'):
                    left = True
                    break
                try:
                    event = decode(line)
                except ProtocolError:
                    continue
                loop.call_soon_threadsafe(self._deliver_remote, event)
        except (OSError, ValueError):
            pass
        host.gone.set()
        if not left:
            loop.call_soon_threadsafe(self._host_dropped, host)

    def _deliver_remote(self, event: Event) -> None:
        """An event of another host's ranks: recorded and shown as the runner's own. Once the runner has ended,
        the other ranks' errors (they die of its going) are left out; a failure there ends the ranks here."""
        child = self._children.get(event.runner)
        if child is None:
            return
        failed = isinstance(event, Phase) and event.phase == "failed"
        if child.ended and (failed or isinstance(event, Error)):
            return
        record = self._open_record(child)
        self._record(record, (event.to_json() + "\n").encode())
        self._close_record(record)
        if failed:
            child.ended = child.failed_elsewhere = True
            if child.alive:  # its ranks here would wait for the dead ones in the next all-reduce
                _signal_group(child.process.pid, signal.SIGTERM)
        self._queue.put_nowait(event)

    def _host_dropped(self, host) -> None:
        if self._stopping:
            return
        for child in self._children.values():
            if not child.ended:
                name = child.spec.name
                self._deliver_remote(Error(name, error_type="HostDropped", message=(
                    f"host {host.name} ({host.address}, node {host.node_rank}) dropped out of the run")))
                self._deliver_remote(Phase(name, "failed"))

    async def start(self) -> None:
        if self._hosts:
            self._watch_hosts()
        children = list(self._children.values())
        if self._rotation is not None:
            for child in children:  # every process at once; each stops itself until its turn
                await self._spawn(child)
                await self._rotation.join(child, take_if_free=False)
            await self._rotation.begin()
            return
        if self.schedule.queued:
            children, self._waiting = children[:1], children[1:]
            for child in self._waiting:
                await self._announce(child, Phase(child.spec.name, "queued"))
        for child in children:
            await self._spawn(child)

    async def _announce(self, child: _Child, event: Event) -> None:
        """An event the launcher says for a runner: recorded and queued like the runner's own."""
        record = self._open_record(child)
        self._record(record, (event.to_json() + "\n").encode())
        self._close_record(record)
        self._watch_budget(child, event)
        await self._queue.put(event)

    def _watch_budget(self, child: _Child, event: Event) -> None:
        """--duration: ask the runner to finish once its steady training time reaches the budget."""
        if self._budget is not None and self._budget.spent_by(event) and child.alive:
            try:
                os.kill(child.process.pid, FINISH_SIGNAL)  # the runner itself, not its compile workers
            except ProcessLookupError:
                pass

    def _open_record(self, child: _Child):
        """The runner's events file, or None once recording has failed."""
        if self.record_error is not None:
            return None
        try:
            return open(self.folder.events_path(child.spec), "ab")
        except OSError as exc:
            self._recording_failed(exc)
            return None

    def _record(self, record, data: bytes) -> None:
        """Recording is best effort: a full or failing disk ends the record, never the training."""
        if record is None or self.record_error is not None:
            return
        try:
            record.write(data)
        except OSError as exc:
            self._recording_failed(exc)

    def _flush_record(self, record) -> None:
        """After each pass: the record on disk is never more than one read interval behind."""
        if record is None or self.record_error is not None:
            return
        try:
            record.flush()
        except OSError as exc:
            self._recording_failed(exc)

    def _close_record(self, record) -> None:
        try:
            if record is not None:
                record.close()  # flushes what a failed write left behind: may fail again
        except OSError as exc:
            self._recording_failed(exc)

    def _recording_failed(self, exc: OSError) -> None:
        if self.record_error is None:
            self.record_error = f"recording stopped ({exc.strerror or exc}) in {self.folder.path}; training goes on"

    async def _spawn(self, child: _Child) -> None:
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

    def _child_command(self, child: _Child) -> list[str]:
        return [sys.executable, "-m", runner_module(child.spec, child.config), child.spec.name, child.config.to_json()]

    def _environment(self, child: _Child, event_fd: int) -> dict[str, str]:
        env = framework_environment(child.spec.backend, child.config.device, child.gpus)
        env.update(thread_environment(child.config.threads))
        env.update(data_parallel_environment(child.spec.backend, child.config.device, child.config.devices))
        env.update(self._node_environment.get(child.spec.name, {}))
        env.update({EVENT_FD_ENV: str(event_fd), PARENT_PID_ENV: str(os.getpid()), "PYTHONUNBUFFERED": "1"})
        if self._rotation is not None:
            env[TAKES_TURNS_ENV] = "1"
        if not child.config.tf32:
            env["NVIDIA_TF32_OVERRIDE"] = "0"  # cuBLAS/cuDNN refuse TF32 whatever a framework asks
        return env

    async def _pump(self, child: _Child, read_fd: int) -> None:
        """Events of one runner into the queue: read, decoded and recorded on the channel thread."""
        record = self._open_record(child)
        decoder = ChannelDecoder(lambda line: None if child.failed_elsewhere else self._record(record, line))
        self._channels.append(decoder)
        channel = _Channel(child, record, asyncio.get_running_loop())
        self._reader.watch(read_fd, decoder, channel)
        try:
            await channel.closed
            returncode = await child.process.wait()
            if not child.ended:
                for event in self._exit_events(child, returncode):
                    self._record(record, (event.to_json() + "\n").encode())
                    await self._queue.put(event)
        finally:
            self._close_record(record)
            await self._queue.put(_ENDED)
        if self._rotation is not None:
            await self._rotation.ended(child)
        await self._next_turn()

    def _hand_over(self, batches: list[tuple["_Channel", list[Event], bool]]) -> None:
        """On the channel thread, after each pass: records flushed, then one wake-up of the loop for all."""
        for channel, _, _ in batches:
            self._flush_record(channel.record)
        batches[0][0].loop.call_soon_threadsafe(self._deliver, batches)

    def _deliver(self, batches: list[tuple["_Channel", list[Event], bool]]) -> None:
        for channel, events, closed in batches:
            for event in events:
                if channel.child.failed_elsewhere:
                    continue
                if isinstance(event, Phase) and event.phase in ("done", "failed"):
                    channel.child.ended = True
                elif isinstance(event, Phase) and event.phase == "waiting" and self._rotation is not None:
                    self._in_background(self._rotation.yielded(channel.child))  # it gives its turn back
                self._watch_budget(channel.child, event)
                self._queue.put_nowait(event)
            if closed:
                channel.closed.set_result(None)  # after its last events: they are queued first

    def _in_background(self, work) -> None:
        task = asyncio.ensure_future(work)
        self._turn_tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._turn_tasks.discard)

    async def _next_turn(self) -> None:
        """Sequential schedule: start the next queued runner once none is running (and not paused)."""
        if self._waiting and not self._stopping and not self.paused:
            if not any(c.alive for c in self._children.values()):
                await self._spawn(self._waiting.pop(0))

    def _exit_events(self, child: _Child, returncode: int) -> list[Event]:
        """The runner ended without saying so: say it for it, from what the OS tells us."""
        name = child.spec.name
        if self._stopping or child.stop_requested:
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

    async def events(self) -> AsyncIterator[Event]:
        """Every event until every runner has ended; call again after a restart."""
        while self._remaining:
            item = await self._queue.get()
            if item is _ENDED:
                self._remaining -= 1
            else:
                yield item

    # The user's controls: pause/resume all (p), stop one (k), restart one (r).

    async def pause(self) -> None:
        """Stop every running runner's processes (SIGSTOP): training really halts, and the
        "paused"/"resumed" phases let the figures leave the pause out."""
        if self.paused:
            return
        self.paused = True
        if self._rotation is not None:
            self._rotation.pause()
        for child in self._children.values():
            if child.alive and not (self._rotation and self._rotation.is_waiting(child)):
                # Stamped before the stop and (in resume) after the restart: a window that
                # touches the pause is always seen as touching it.
                at = time.time()
                _signal_group(child.process.pid, signal.SIGSTOP)
                await self._announce(child, Phase(child.spec.name, "paused", t=at))

    async def resume(self) -> None:
        if not self.paused:
            return
        self.paused = False
        rotation = self._rotation
        for child in self._children.values():
            if not child.alive or (rotation and (rotation.is_waiting(child) or rotation.yielded_while_paused)):
                continue  # waiting for its turn, or giving it back: the rotation decides who goes on
            _signal_group(child.process.pid, signal.SIGCONT)
            await self._announce(child, Phase(child.spec.name, "resumed"))
        if rotation is not None:
            await rotation.resume()
        await self._next_turn()

    async def stop_runner(self, runner: str, grace_s: float = 3.0) -> str:
        """End one runner (it shows as "stopped"); the others carry on. Returns what happened."""
        child = self._children[runner]
        if child in self._waiting:
            self._waiting.remove(child)
            await self._announce(child, Phase(runner, "stopped"))
            await self._queue.put(_ENDED)
            return f"{runner} will not start"
        if not child.alive:
            return f"{runner} is not running"
        child.stop_requested = True
        await _terminate([child.process], grace_s)
        return f"{runner} stopped"

    async def restart_runner(self, runner: str, grace_s: float = 3.0) -> str:
        """Start one runner again from scratch (stopping it first if it runs)."""
        child = self._children[runner]
        if self.paused:
            return "resume (p) before restarting a runner"
        if child in self._waiting or child.process is None:
            return f"{runner} has not started yet"
        self._remaining += 1  # before the old process's end is counted: events() must not finish
        if child.alive:
            child.stop_requested = True
            await _terminate([child.process], grace_s)
        if child.pump is not None:
            await asyncio.gather(child.pump, return_exceptions=True)
        child.ended = child.stop_requested = child.failed_elsewhere = False
        await self._announce(child, Phase(runner, "restarting"))
        if self._rotation is not None:
            await self._spawn(child)
            await self._rotation.join(child)  # it waits for its turn like the others
        elif self.schedule.queued and any(c.alive for c in self._children.values()):
            self._waiting.append(child)  # its turn comes after the runner training now
            await self._announce(child, Phase(runner, "queued"))
        else:
            await self._spawn(child)
        return f"{runner} restarted"

    async def stop(self, grace_s: float = 3.0) -> None:
        """SIGTERM every runner's process group, then SIGKILL what is left after ``grace_s``."""
        self._stopping = True
        if self._rotation is not None:
            self._rotation.pause()  # no turn is handed on while everything stops
        for child in self._waiting:  # their turn never comes
            await self._announce(child, Phase(child.spec.name, "stopped"))
            await self._queue.put(_ENDED)
        self._waiting = []
        finished = all(c.ended for c in self._children.values())
        await _terminate([c.process for c in self._children.values() if c.alive], grace_s)
        if finished and self._hosts:  # their ranks are ending too: let them end, not stop them
            await asyncio.to_thread(lambda: [host.gone.wait(HOSTS_LEAVE_S) for host in self._hosts])
        for host in self._hosts:  # a joined host stops its ranks when its connection closes
            try:
                host.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            host.connection.close()
        if self._pumps:
            await asyncio.gather(*self._pumps, return_exceptions=True)

    def kill_now(self) -> None:
        """Synchronous last resort (interpreter exit): SIGKILL every runner still alive."""
        for child in self._children.values():
            if child.process and child.process.returncode is None:
                _signal_group(child.process.pid, signal.SIGKILL)


def _gpus_of(index: int, gpus: list[int], devices: int) -> list[int]:
    """Runner ``index``'s GPUs: the next ``devices`` of ``gpus``, round-robin (shared once every GPU has a runner)."""
    return [gpus[(index * devices + k) % len(gpus)] for k in range(devices)]


async def _terminate(processes: list[asyncio.subprocess.Process], grace_s: float) -> None:
    """SIGTERM each process group (SIGCONT too, in case it is paused), SIGKILL after ``grace_s``."""
    for process in processes:
        _signal_group(process.pid, signal.SIGTERM)
        _signal_group(process.pid, signal.SIGCONT)  # a stopped process acts on SIGTERM only once continued
    try:
        await asyncio.wait_for(asyncio.gather(*(p.wait() for p in processes)), grace_s)
    except asyncio.TimeoutError:
        for process in processes:
            _signal_group(process.pid, signal.SIGKILL)
        await asyncio.gather(*(p.wait() for p in processes))


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


async def run_headless(launcher: Launcher, on_event) -> None:
    """Start the runners, hand every event to ``on_event``, and stop them whatever happens."""
    try:
        await launcher.start()
        async for event in launcher.events():
            on_event(event)
    finally:
        await launcher.stop()
