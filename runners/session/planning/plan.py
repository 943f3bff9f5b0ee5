"""A run's plan: the user's input checked and resolved before anything starts.

Which workload at which settings, which runners, on which device. Everything
wrong with the input is an ``InputError`` here, one line, before a runner
starts: an unknown name, a missing framework, data that fits in no epoch, a GPU
that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from runners.recipe import Recipe, recipe_from
from runners.session.state.formatting import fmt_bytes
from runners.session.planning.schedules import Schedule, schedule_named
from runners.session.verdict.target import Target, parse_target
from runners.specs import RunnerSpec, choose_specs
from workloads import Workload, WorkloadSettings, get_workload
from workloads.errors import InputError
from workloads.hub import PREFIX as HUB_PREFIX
from workloads.tasks import get_task

# In-memory data per runner above which we refuse rather than swap (one epoch is never shorter than
# one pass over the 4,096 generated samples: large images at large batches reach it).
MAX_DATA_BYTES = 4 * 1024**3
# A runner's memory per byte of laid-out data, measured here (mlp, 3.7 GiB of data): TensorFlow copies the
# arrays into its own tensors; the others hold them plus the model and framework.
MEMORY_PER_DATA_BYTE = {"tensorflow": 2.8, "other": 1.3}
# The step cap of a run that only has a --duration: never reached, it only sizes loops.
DURATION_STEP_CAP = 1_000_000_000


@dataclass(frozen=True)
class Plan:
    """Validated input: what to train, with which runners."""

    workload: Workload
    workload_ref: str  # what a runner subprocess resolves the workload from
    settings: WorkloadSettings
    specs: list[RunnerSpec]
    device: str  # "cpu" or "cuda", --device resolved
    gpus: list[int] | None
    skipped: list[str] = field(default_factory=list)  # default runners left out for lack of a framework
    mixed: list[str] = field(default_factory=list)  # runners on another device kind (--allow-mixed-devices)
    duration_s: float | None = None  # --duration: steady training seconds per runner (settings.steps: a cap)
    recipe: Recipe = field(default_factory=Recipe)
    # Validation after every this many steps, or (a run with only a --duration) this much steady time.
    eval_every_steps: int | None = None
    eval_every_s: float | None = None
    validation: bool = True  # check turns it off: parity needs no evaluation
    target: Target | None = None  # --target: each runner's time to reach it
    devices: int = 1  # --devices: each runner data-parallel over this many devices
    hosts: int = 1  # --hosts: ... on each of this many hosts (the others join with `kvp-dash join`)
    # How the runners share the machine: chosen once (``schedule_named``), used by run, check, sweep and repeats.
    schedule: Schedule = field(default_factory=lambda: schedule_named("sequential"))
    until: float | None = None  # --until: the run ends once the headline ratios are this sure (0.05: ±5 %)
    turns: int | None = None  # each runner finishes after this many timed turns (--until over processes sets it)
    images: str | None = None  # --images: the folder the data was decoded from (settings.data_path holds the arrays)
    # --input: "native" (each runner reads the files through its framework's pipeline) or "memory" (the arrays)
    input_mode: str = "memory"
    input_workers: int = 2  # --input-workers: the native pipelines' workers
    # `kvp-dash infer`: the batch sizes every serving path is timed at (the specs are then serving paths), and the
    # weights file it serves (a training run's final weights: --from RUN_DIR), or None: the run's initial weights.
    batch_sizes: list[int] | None = None
    weights_from: str | None = None
    keep_exports: bool = False  # --keep-exports: each path's exported model stays in the run folder
    keras_predict: bool = False  # --keras-predict: Keras's backends serve through predict_on_batch
    notices: list[str] = field(default_factory=list)  # what the plan chose in place of a default, and why

    @property
    def serving(self) -> bool:
        return self.batch_sizes is not None

    def describe(self) -> str:
        """The one-line description every view shows as its title."""
        s = self.settings
        if self.serving:
            weights = f" · weights of {Path(self.weights_from).parent.name}" if self.weights_from else ""
            return (f"{self.workload.name} ({s.size}) · serving at batch {', '.join(map(str, self.batch_sizes))} · "
                    f"{self.duration_s:g} s each · seed {s.seed} · {self.device}{weights}")
        length = f"{self.duration_s:g} s each" if self.duration_s else f"{s.steps} steps"
        if self.until:
            length = f"until ±{self.until * 100:g} % (at most {length})"
        if self.turns:
            length = f"{self.turns} turns each (at most {length})"
        text = f"{self.workload.name} ({s.size}) · batch {s.batch_size} · {length} · seed {s.seed} · {self.device}"
        if self.devices > 1 or self.hosts > 1:
            text += f" × {self.devices} data-parallel" + (f" × {self.hosts} hosts" if self.hosts > 1 else "")
        if s.image_size:
            text += f" · {s.image_size}px"
        if s.seq_len:
            text += f" · {s.seq_len} tokens"
        if self.images:
            text += f" · images {Path(self.images).name} ({self.input_mode} input)"
        elif s.data_path:
            text += f" · data {Path(s.data_path).name}"
        if self.recipe != Recipe():
            text += f" · {self.recipe.describe()}"
        if self.target:
            text += f" · target {self.target.describe()}"
        return text


def make_plan(workload: str, *, size: str | None = None, steps: int | None = None, batch_size: int | None = None,
              seed: int = 0, image_size: int | None = None, seq_len: int | None = None, data: Path | None = None,
              runners: str | None = None,
              device: str = "auto", gpus: list[int] | None = None, schedule: "str | Schedule | None" = "sequential",
              allow_mixed_devices: bool = False, duration_s: float | None = None, recipe: dict | None = None,
              eval_every: int | None = None, target: str | None = None, devices: int = 1, hosts: int = 1,
              until: float | None = None, images: Path | None = None, input_mode: str | None = None,
              input_workers: int = 2, trains: bool = True) -> Plan:
    """Check the input and resolve what "auto" and the defaults mean on this machine (``schedule`` None: the
    default for ``hosts``; ``trains`` False: the runners serve, `kvp-dash infer`, and hold no training data)."""
    schedule = schedule_named(schedule, hosts)
    workload_ref = workload
    if workload_ref.endswith(".py"):
        workload_ref = str(Path(workload_ref).resolve())  # runners resolve it from the same file
    elif workload_ref.startswith(HUB_PREFIX):
        workload_ref = HUB_PREFIX + str(Path(workload_ref[len(HUB_PREFIX):]).expanduser().resolve())
    chosen = get_workload(workload_ref)
    if chosen.loads_checkpoint:
        from workloads.hub import require_hub_extra

        require_hub_extra()
    if image_size and not chosen.takes_images:
        fixed = chosen.sizes[size or chosen.default_size].model.get("config", {}).get("image_size") \
            if (size or chosen.default_size) in chosen.sizes else None
        if fixed:  # a vision transformer: its position table is sized for its checkpoint's images
            raise InputError(f"--image-size does not apply to {chosen.name}: its images are its checkpoint's "
                             f"{fixed} px at this size (--size chooses another)")
        raise InputError(f"--image-size does not apply to {chosen.name}, which is not an image workload")
    task = get_task(chosen.task)
    chosen_recipe = recipe_from(chosen.recipe, **(recipe or {}))
    time_only = bool(duration_s) and not steps  # a time budget with no step count
    if time_only and chosen_recipe.schedule != "constant":
        # A decaying schedule needs a horizon: the size's preset step count, where the run then ends at the
        # latest (its --duration may end it sooner).
        time_only = False  # settings() below takes the preset's steps when none are given
    if input_mode and images is None:
        raise InputError("--input chooses how an image folder is fed: give the folder with --images DIR")
    if images is not None:
        if data is not None:
            raise InputError("--images and --data: choose one (--images decodes a folder into the run's data)")
        if (input_mode or "native") == "native" and (devices > 1 or hosts > 1):
            raise InputError("--input native feeds one process a runner: use --input memory with --devices or "
                             "--hosts")
        from runners.session.planning.image_folder import images_as_data

        data = images_as_data(chosen, chosen.settings(size=size, seed=seed, image_size=image_size), images)
    settings = chosen.settings(
        size=size, steps=DURATION_STEP_CAP if time_only else steps, batch_size=batch_size, seed=seed,
        image_size=image_size, data_path=data.resolve() if data else None, seq_len=seq_len,
    )
    if time_only and not settings.data_path:
        # A time budget has no step count to size the epoch by: lay out what the size's preset would and cycle
        # it (else the epoch grows to the memory limit: 1 GiB per runner, and seconds of start-up to lay out).
        preset = replace(settings, steps=chosen.sizes[settings.size].steps)
        settings = replace(settings, epoch_bytes=chosen.data_bytes(preset))
    chosen.validate(settings)
    if settings.data_path:
        from workloads.user_data import check_data_file

        check_data_file(chosen, settings)
    specs, skipped = choose_runners(runners)
    if hosts > 1:
        specs, skipped = runners_across_hosts(chosen, settings, specs, skipped, explicit=runners is not None,
                                              devices=devices)
    if trains and not settings.data_path:
        settings = fit_data_in_memory(chosen, settings, specs, schedule)
    chosen_recipe.check(settings.steps, task.name)
    chosen_target = parse_target(target, task) if target else None
    if chosen_target and settings.data_path:
        from workloads.user_data import has_validation

        if not has_validation(settings.data_path):
            raise InputError(f"--target is measured on validation data: add x_val and y_val to {settings.data_path}")
    resolved_device, resolved_gpus = resolve_device(device, gpus)
    mixed = check_devices(specs, resolved_device, allow_mixed_devices)
    check_data_parallel(devices, settings.batch_size, resolved_device, resolved_gpus, schedule, hosts)
    check_until(until, schedule, specs)
    if eval_every is None and time_only:
        every_steps, every_s = None, duration_s / 4  # a few times per run: the steps are not known ahead
    else:
        every_steps, every_s = eval_every or max(1, settings.steps // 4), None
    return Plan(chosen, workload_ref, settings, specs, resolved_device, resolved_gpus, skipped, mixed, duration_s,
                chosen_recipe, every_steps, every_s, target=chosen_target, devices=devices, hosts=hosts,
                schedule=schedule, until=until, images=str(Path(images).resolve()) if images else None,
                input_mode=(input_mode or "native") if images else "memory", input_workers=input_workers)


def check_until(until: float | None, schedule: Schedule, specs: list[RunnerSpec]) -> None:
    """--until is judged on paired turns: it needs turns, and two runners to pair."""
    if until is None:
        return
    if not schedule.takes_turns:
        raise InputError(f"--until is judged on paired turns: it needs the interleaved schedule, not {schedule.name}")
    if len(specs) < 2:
        raise InputError("--until compares runners: name two or more in --runners")


# Host devices a CPU is split into for --devices: beyond this the "devices" are only threads fighting for cores.
MAX_CPU_DEVICES = 8


# Every runner spans hosts with its engine (torchrun's rendezvous, jax.distributed, MultiWorkerMirroredStrategy
# from TF_CONFIG); MultiWorkerMirroredStrategy with one device a host: each worker feeds its one replica its share.
ONE_DEVICE_A_HOST = ("tensorflow",)


def runners_across_hosts(workload: Workload, settings: WorkloadSettings, specs: list[RunnerSpec], skipped: list[str],
                         explicit: bool, devices: int = 1) -> tuple[list[RunnerSpec], list[str]]:
    """--hosts: the runners that can span hosts with --devices N, and a workload every host can build."""
    if workload.weights_from_torch or workload.loads_checkpoint or settings.data_path:
        raise InputError("--hosts needs a workload every host builds from the seed alone: not a --data file, a "
                         "checkpoint or a workload whose weights come from a file")
    others = [spec.name for spec in specs if devices > 1 and spec.backend in ONE_DEVICE_A_HOST]
    if others and explicit:
        raise InputError(f"--hosts with --devices {devices}: {', '.join(others)} trains on one device a host "
                         "across hosts (MultiWorkerMirroredStrategy, one worker a host): use --devices 1")
    across = [spec for spec in specs if spec.name not in others]
    if not across:
        raise InputError(f"--hosts with --devices {devices}: no installed runner can train on {devices} devices a "
                         f"host ({', '.join(others)} trains on one device a host)")
    return across, skipped + [f"{name}: it trains on one device a host across hosts" for name in others]


def check_data_parallel(devices: int, batch_size: int, device: str, gpus: list[int] | None, schedule: Schedule,
                        hosts: int = 1) -> None:
    """--devices N (on --hosts H): the global batch splits evenly, and there are N devices to split it over."""
    if devices == 1 and hosts == 1:
        return
    if device == "cuda" and devices > len(gpus):
        raise InputError(f"--devices {devices}: only {len(gpus)} GPU(s) to use ({','.join(map(str, gpus))})")
    if device == "cpu" and devices > MAX_CPU_DEVICES:
        raise InputError(f"--devices {devices}: at most {MAX_CPU_DEVICES} devices on a CPU")
    if batch_size % (devices * hosts):
        across = f"{devices} × {hosts} hosts" if hosts > 1 else str(devices)
        raise InputError(f"--devices {across} splits the global batch evenly: --batch-size {batch_size} is not a "
                         f"multiple of {devices * hosts}")
    if not schedule.across_hosts and hosts > 1:
        raise InputError("--hosts: ranks on other hosts cannot take turns with this one's runners: add "
                         "--schedule parallel (a race) or --schedule sequential (each runner with the whole machine)")


def check_devices(specs: list[RunnerSpec], device: str, allow_mixed: bool, ask=None) -> list[str]:
    """On a GPU, every runner's framework is asked what it will use: a comparison across device kinds is
    refused, one line per runner with its fix (``ask``: how to ask, for tests). On the CPU every framework is
    held to it (CUDA_VISIBLE_DEVICES is empty), so there is nothing to ask."""
    if device != "cuda":
        return []
    from runners.session.planning.device_check import ask_frameworks, mixed_device_lines

    ask = ask or ask_frameworks
    lines = mixed_device_lines(specs, ask([spec.backend for spec in specs], device), device)
    if lines and not allow_mixed:
        raise InputError("the runners would train on different devices, which would compare the devices, not the "
                         "frameworks (--allow-mixed-devices races them anyway):\n  " + "\n  ".join(lines))
    return lines


def available_memory() -> int:
    """Bytes of memory this machine can give a run now (what the memory checks fit into)."""
    import psutil  # here, not at the top: --help stays fast

    return psutil.virtual_memory().available


def fit_data_in_memory(workload: Workload, settings: WorkloadSettings, specs: list[RunnerSpec],
                       schedule: "Schedule | str", available: int | None = None) -> WorkloadSettings:
    """Epochs as long as the memory of this machine allows; refuse, in one line, data that fits in no epoch.

    The OOM killer is no message: the runners' data is counted together (one at a
    time under the sequential schedule; the interleaved one keeps every runner's process alive),
    TensorFlow's copy included.
    """
    if available is None:
        available = available_memory()
    weights = [MEMORY_PER_DATA_BYTE.get(spec.backend, MEMORY_PER_DATA_BYTE["other"]) for spec in specs]
    together = schedule_named(schedule).all_in_memory
    weight = sum(weights) if together else max(weights)
    settings = replace(settings, epoch_bytes=min(settings.epoch_bytes, int(available / weight)))
    data_bytes = workload.data_bytes(settings)  # at least one pass over the generated samples
    head = f"one epoch of data takes {fmt_bytes(data_bytes)} per runner at batch {settings.batch_size}"
    advice = "lower --batch-size" + (" or --image-size" if workload.takes_images else "")
    if data_bytes > MAX_DATA_BYTES:
        raise InputError(f"{head} (limit {MAX_DATA_BYTES // 2**30} GiB); {advice}")
    if data_bytes * weight > available:
        sequential = ", or use --schedule sequential" if together and len(specs) > 1 else ""
        raise InputError(
            f"{head}: the runners would hold about {fmt_bytes(int(data_bytes * weight))} "
            f"{'together ' if together else ''}and "
            f"{fmt_bytes(available)} is available; {advice}{sequential}"
        )
    return settings


def choose_runners(text: str | None) -> tuple[list[RunnerSpec], list[str]]:
    """The runners to start, and notices about default runners skipped for lack of a framework."""
    return choose_specs(text)


def resolve_device(device: str, gpus: list[int] | None) -> tuple[str, list[int] | None]:
    """--device auto|cpu|cuda and --gpus, checked against what NVML finds (the parent never imports CUDA)."""
    if device == "cpu":
        if gpus:
            raise InputError("--gpus needs --device cuda or auto")
        return "cpu", None
    from runners.session.monitoring.nvml_monitor import NvmlMonitor

    monitor = NvmlMonitor()
    count = monitor.device_count()
    monitor.close()
    if count == 0:
        if device == "cuda" or gpus:
            raise InputError(f"--device cuda / --gpus: no usable NVIDIA GPU ({monitor.unavailable})")
        return "cpu", None
    gpus = gpus or list(range(count))
    if max(gpus) >= count:
        raise InputError(f"--gpus {','.join(map(str, gpus))}: this machine has GPUs 0..{count - 1}")
    return "cuda", gpus
