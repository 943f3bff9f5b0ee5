"""The event protocol: the one module both the runners and the dashboard import.

Events travel as JSON lines (one object per line) over a dedicated pipe. Every
event carries the protocol version ``v``, its ``type``, the ``runner`` spec that
sent it and a wall-clock timestamp ``t``. Metrics carry their step range, so a
consumer orders by step, never by arrival.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

PROTOCOL_VERSION = 1

# Phases a runner passes through, in order; it ends in "done", "failed" or
# "stopped" (ended by the user or the dashboard quitting). "queued" is only
# seen under the sequential schedule, before a runner's turn. The launcher
# says "paused" when the user pauses a runner (its processes are stopped),
# "resumed" when they go on (the runner's phase before the pause is back) and
# "restarting" when the user restarts it (everything known about the runner so
# far is dropped). Under the interleaved schedule a runner that waits for its
# turn is "waiting" (said by the launcher before its first turn, by the runner
# itself when it gives a turn back) until "resumed".
PHASES = (
    "queued", "waiting", "importing", "building", "warmup", "training", "paused", "resumed", "restarting",
    "done", "failed", "stopped",
)
FINAL_PHASES = ("done", "failed", "stopped")
# Phases in which the runner's processes are stopped: no time in them counts in any figure.
HELD_PHASES = ("paused", "waiting")
# The first steady window after the one a hold fell into counts in no timing either when it began less than this
# many seconds after the hold ended: the runner is settling (caches the others' turns evicted, thread pools
# waking). Applied on the dashboard (``runners.session.state.runner_state``) and in the runner's own clock alike.
SETTLING_S = 0.5

# Parity: the runner every other is judged against, and how many optimizer steps after the initial loss count.
PARITY_REFERENCE = "torch"
PARITY_STEPS = 5

# How a runner subprocess finds its channel (a pipe fd the launcher passes) and its parent (to die with it).
EVENT_FD_ENV = "KVP_DASH_EVENT_FD"
# A runner across hosts (--hosts): how many nodes, which one this is, node 0's rendezvous address, the run's id
# (the same on every node) and the address this node's ranks are reached at.
NODES_ENV, NODE_RANK_ENV, RENDEZVOUS_ENV, RUN_ID_ENV, NODE_ADDRESS_ENV = (
    "KVP_DASH_NODES", "KVP_DASH_NODE_RANK", "KVP_DASH_RENDEZVOUS", "KVP_DASH_RUN_ID", "KVP_DASH_NODE_ADDRESS")
# A torchrun rank's channel instead: the Unix socket its runner process relays from (``runners.child.distributed.rank_relay``).
EVENT_SOCKET_ENV = "KVP_DASH_EVENT_SOCKET"
PARENT_PID_ENV = "KVP_DASH_PARENT_PID"
# Set (to "1") when runners take turns: the runner waits for its first turn before it imports anything.
TAKES_TURNS_ENV = "KVP_DASH_TAKES_TURNS"
# What the launcher asks of a running runner, at its next window edge: give the turn back (interleaved
# schedule), or finish training (its --duration is spent).
YIELD_SIGNAL = signal.SIGUSR1
FINISH_SIGNAL = signal.SIGUSR2


class ProtocolError(ValueError):
    """A line that is not a valid event."""


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = ""
    runner: str
    t: float = field(default_factory=time.time, kw_only=True)

    def to_json(self) -> str:
        return json.dumps({"v": PROTOCOL_VERSION, "type": self.type, **asdict(self)})


@dataclass(frozen=True)
class Hello(Event):
    """Who the runner is and what it runs on; sent once the model is built."""

    type: ClassVar[str] = "hello"
    pid: int
    framework: str  # "keras" or "torch"
    backend: str  # the tensor library underneath: "jax", "tensorflow" or "torch"
    versions: dict[str, str]
    device: str
    params: int  # trainable parameters
    threads: int  # CPU threads the runner was capped to
    cpus: list[int]  # CPUs the runner is pinned to
    gpu: str | None = None  # CUDA_VISIBLE_DEVICES as the launcher set it; None on CPU
    tokens_per_sample: int = 1  # >1 for language models: throughput is then shown in tokens/s
    flops_per_step: float | None = None  # analytic training FLOPs of one step
    precision: str = "fp32"
    tf32: str = "n/a"  # "on", "off", or "n/a" where no TF32 hardware is in use
    compiler: str = "eager"  # e.g. "XLA (jit_compile)", "torch.compile", "eager"
    recipe: str = ""  # the training recipe in words ("adamw lr 0.001 wd 0.01 · cosine, warm-up 100")
    task: str = "classification"
    # Layers that draw random numbers in training (dropout): the frameworks draw different ones.
    stochastic_layers: list[str] = field(default_factory=list)
    # What the weight conversion could not be sure of (a Dense whose input order it cannot read), with the fix.
    conversion_notes: list[str] = field(default_factory=list)
    weights_sha256: str | None = None  # of the initial-weights file it loaded, when there is one
    devices: int = 1  # data-parallel over this many devices (--devices)
    distribution: str | None = None  # the data-parallel engine and its communication settings, in words
    input_pipeline: str | None = None  # --input native: the framework's own pipeline, in words
    input_note: str | None = None  # ... and how its first batch differs from the decoded arrays, if it does


@dataclass(frozen=True)
class Phase(Event):
    type: ClassVar[str] = "phase"
    phase: str


@dataclass(frozen=True)
class Probe(Event):
    """The initial model's logits (inference mode, first samples of batch 0), before any update.

    Every runner starts from the same weights, so these must agree across
    frameworks; ``values`` holds at most the first few thousand, flattened.
    """

    type: ClassVar[str] = "probe"
    values: list[float]
    shape: list[int]  # of the full logits tensor the values were taken from


@dataclass(frozen=True)
class NoiseFloor(Event):
    """The reference runner's initial logits (as its Probe) and first losses (from step 0) again, from its initial
    weights perturbed at the run's rounding: how far rounding alone moves them (``runners.child.pytorch.noise_floor``)."""

    type: ClassVar[str] = "floor"
    losses: list[float]
    perturbation: float
    logits: list[float] = field(default_factory=list)
    seconds: float = 0.0  # how long it took, just before this event: not the runner's own start-up


@dataclass(frozen=True)
class Metrics(Event):
    """One window of consecutive steps, timed between two device synchronisations."""

    type: ClassVar[str] = "metrics"
    first_step: int
    step: int  # last step of the window (0-based)
    losses: list[float]  # batch loss of every step in the window, in step order
    window_s: float
    batch_size: int
    warmup: bool
    rss_bytes: int | None = None
    # Framework-reported device memory, when on a GPU: live tensors, their peak, and the
    # allocator's pool (closer to what NVML sees).
    device_bytes: int | None = None
    device_peak_bytes: int | None = None
    device_reserved_bytes: int | None = None
    # Seconds of the window the training loop waited for its input pipeline's next batch (--input native, where
    # the loop is the runner's own); None where it is not seen (arrays in memory, or inside Keras's fit()).
    input_wait_s: float | None = None
    # Serving (`kvp-dash infer`): each step is one timed call at ``batch_size``; every call's latency in the
    # window, counted in log-spaced bins (``runners.latency``), and the slowest exactly. None when training.
    call_bins: dict[str, int] | None = None
    call_max_s: float | None = None

    @property
    def steps(self) -> int:
        return self.step - self.first_step + 1

    @property
    def step_time_s(self) -> float:
        return self.window_s / self.steps

    @property
    def samples_per_s(self) -> float:
        return self.batch_size * self.steps / self.window_s if self.window_s > 0 else 0.0


@dataclass(frozen=True)
class Evaluation(Event):
    """The model on the validation data after ``step``: measured apart, never inside a training window."""

    type: ClassVar[str] = "evaluation"
    step: int  # the last step trained before it (0-based)
    loss: float  # mean validation loss (cross-entropy without label smoothing, BCE or MSE)
    metric: float  # the task's metric: accuracy (a fraction) or mae
    metric_name: str
    samples: int
    eval_s: float  # this evaluation's time
    eval_total_s: float  # every evaluation's time so far, this one included


@dataclass(frozen=True)
class Export(Event):
    """Serving: what getting the weights onto a deployment path cost, before any call is timed."""

    type: ClassVar[str] = "export"
    route: str  # the path in words: "ONNX Runtime 1.32 (CPUExecutionProvider) on torch.onnx.export"
    export_s: float  # exporting or converting the model (0 for a path that serves the model as built)
    load_s: float  # loading or compiling the artifact into a callable
    warmup_s: float  # the first calls at every batch size (tracing, shape specialisation)
    artifact_bytes: int | None  # the exported files on disk; None when nothing is written
    artifact: str | None  # the artifact's format and file name
    peak_rss_bytes: int  # the process's peak resident memory once the path is ready
    precision: str  # what the path computes in ("fp32", or "bf16" where a runtime chooses it)
    batch_sizes: list[int]


@dataclass(frozen=True)
class Error(Event):
    type: ClassVar[str] = "error"
    error_type: str
    message: str
    traceback: str = ""


@dataclass(frozen=True)
class Done(Event):
    type: ClassVar[str] = "done"
    steps: int
    train_s: float  # from the first step's start to the last step's end


@dataclass(frozen=True)
class Rank(Event):
    """One process of a data-parallel runner (a torchrun rank), every second or so: its own memory."""

    type: ClassVar[str] = "rank"
    rank: int
    world_size: int
    pid: int
    host: str
    rss_bytes: int
    device: str  # "cpu" or the GPU it trains on ("cuda:1")
    device_bytes: int | None = None
    device_peak_bytes: int | None = None


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls for cls in (Hello, Phase, Probe, NoiseFloor, Metrics, Evaluation, Export, Error, Done, Rank)
}

# Looked up once: decode() runs for every event of every runner.
_FIELDS = {cls: frozenset(f.name for f in fields(cls)) for cls in EVENT_TYPES.values()}


def decode(line: str | bytes) -> Event:
    """Parse one JSON line into an event; raise ProtocolError for anything else."""
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    return from_object(data)


def decode_lines(lines: list[bytes]) -> tuple[list[Event], int]:
    """The events of many JSON lines, and how many lines were not valid events (skipped).

    The lines are parsed as one JSON array, a fifth of the cost of parsing them one
    by one; only if some line is not exactly one JSON value are they parsed singly.
    """
    try:
        values = json.loads(b"[" + b",".join(lines) + b"]") if lines else []
    except ValueError:
        values = None
    if values is None or len(values) != len(lines):
        values = [_parsed(line) for line in lines]
    events, bad = [], 0
    for value in values:
        try:
            events.append(from_object(value))
        except ProtocolError:
            bad += 1
    return events, bad


def _parsed(line: bytes) -> Any:
    """The line's JSON value, or None (no event) when it is not JSON."""
    try:
        return json.loads(line)
    except ValueError:
        return None


def from_object(data: Any) -> Event:
    """The event a freshly parsed JSON value describes (the value is used up); raise ProtocolError if none."""
    if not isinstance(data, dict):
        raise ProtocolError("event is not a JSON object")
    if data.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(f"unsupported protocol version {data.get('v')!r}")
    cls = EVENT_TYPES.get(data.get("type"))
    if cls is None:
        raise ProtocolError(f"unknown event type {data.get('type')!r}")
    del data["v"], data["type"]  # a value just parsed, nobody else's: taken apart in place
    known = _FIELDS[cls]
    # Fields a newer runner added are dropped; there are usually none, and the check is one set operation.
    kwargs = data if data.keys() <= known else {k: v for k, v in data.items() if k in known}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ProtocolError(f"bad {cls.type} event: {exc}") from None
