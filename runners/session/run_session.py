"""The one place a run starts: a plan becomes a run folder, runner processes, and at the end a summary.

Every kind of run goes through ``RunSession``: the dashboard, ``--headless``,
``check`` and each size of a ``sweep``. It writes ``run.json`` (the command and
settings) and ``meta.json`` (the machine) before any runner starts, makes sure no
runner outlives this process, and at the end ranks the runners, words the
verdict and writes the summary files. Views (the Textual app, the console) only
follow its events.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterable

from runners import weights_file
from runners.config import RunConfig
from runners.protocol import Event, Phase
from runners.session.planning.cpu_share import available_cpus
from runners.session.planning.defaults import DEFAULT_SLICE_S
from runners.session.monitoring.host_steal import StealMeter
from runners.session.launching.launcher import READ_EVERY_S, Launcher, run_headless
from runners.session.verdict.parity import ParityContext, ParityVerdict, describe, recorded_report
from runners.session.planning.plan import DURATION_STEP_CAP, Plan
from runners.session.planning.preparation import ProgressCallback, prepare_checkpoint, prepare_initial_weights
from runners.session.record.run_folder import RECORD_NAME, RunFolder
from runners.session.state.runner_state import RunnerState
from runners.session.verdict.summary import finish_run
from workloads.errors import InputError
from workloads.hub.checkpoint import parameter_count as checkpoint_parameters


class RunSession:
    def __init__(
        self,
        plan: Plan,
        output: Path,
        *,
        folder_name: str | None = None,
        precision: str = "fp32",
        keras_jit: str = "auto",
        tf32: bool = False,
        warmup_steps: int | None = None,
        overrides: dict[str, dict] | None = None,
        read_every_s: float = READ_EVERY_S,
        slice_s: float = DEFAULT_SLICE_S,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ):
        """A new run folder under ``output`` (named after the workload unless ``folder_name``), recorded at once.

        ``warmup_steps`` 0 makes every step count (``check``); ``overrides`` change one
        runner's config (tests inject a crash this way); ``read_every_s`` is how often the
        channels are read (a dashboard passes its frame interval); ``on_progress`` hears how the
        preparation of generated weights or a checkpoint goes, and ``cancel`` stops it.
        """
        self.plan = plan
        self.schedule = plan.schedule  # chosen once, where the plan was made
        self.precision, self.keras_jit, self.tf32 = precision, keras_jit, tf32
        self.folder = _create_folder(output, folder_name or plan.workload.name)
        extra = {} if warmup_steps is None else {"warmup_steps": warmup_steps}
        self.weights_file = self.checkpoint = None
        self.parity_verdict: ParityVerdict | None = None  # once finished
        try:
            prepared = (plan.workload_ref, plan.workload, plan.settings, self.folder.path, on_progress, cancel)
            if plan.weights_from:  # infer --from RUN_DIR: a training run's final weights, where they are
                self.weights_file = Path(plan.weights_from)
            elif plan.workload.weights_from_torch:
                self.weights_file = prepare_initial_weights(*prepared)
            elif plan.workload.make_checkpoint:
                self.checkpoint = prepare_checkpoint(*prepared)
            elif plan.workload.checkpoint_folder:
                self.checkpoint = Path(plan.workload.checkpoint_folder)  # the user's own, loaded where it is
        except BaseException:
            shutil.rmtree(self.folder.path, ignore_errors=True)  # nothing but the failed preparation in it
            raise
        self.config = RunConfig(
            workload=plan.workload_ref, settings=plan.settings, recipe=plan.recipe, precision=precision,
            keras_jit=keras_jit, tf32=tf32, device=plan.device, devices=plan.devices, hosts=plan.hosts, duration_s=plan.duration_s,
            eval_every_steps=plan.eval_every_steps, eval_every_s=plan.eval_every_s, validation=plan.validation,
            weights_file=str(self.weights_file) if self.weights_file else None,
            checkpoint=str(self.checkpoint) if self.checkpoint else None,
            images=plan.images if plan.input_mode == "native" else None, input_workers=plan.input_workers,
            batch_sizes=plan.batch_sizes, keras_predict=plan.keras_predict,
            exports=str(self.folder.path / "exports") if plan.serving else None,
            final_weights=None if plan.serving else str(self.folder.path / weights_file.FINAL_NAME), **extra,
        )
        self.launcher = Launcher(
            plan.specs, self.config, self.folder, available_cpus(), overrides=overrides,
            schedule=plan.schedule, gpus=plan.gpus, read_every_s=read_every_s, slice_s=slice_s, until=plan.until,
            turns=plan.turns,
        )
        self.folder.write_json(RECORD_NAME, self.run_record())
        self.folder.write_json("meta.json", self._meta())
        self.steal = StealMeter()  # from here to the verdict: the runners' whole life
        atexit.register(self.launcher.kill_now)  # whatever happens to a view, no runner outlives us

    @property
    def expected_params(self) -> int | None:
        """Trainable parameters the workload defines: from its param_specs, or counted in the saved weights."""
        if self.weights_file:
            return weights_file.trainable_count(self.weights_file)
        if self.checkpoint:
            return checkpoint_parameters(self.checkpoint)
        return self.plan.workload.trainable_params(self.plan.settings)

    @functools.cached_property
    def parity_context(self) -> ParityContext:
        """How this run's parity is judged, in every view of it (recorded in run.json)."""
        # Judged at every precision: the reference measures its floor at the run's own rounding.
        return ParityContext(expected_params=self.expected_params, step_rtol=self.plan.workload.parity_step_rtol)

    @property
    def description(self) -> str:
        return self.plan.describe()

    def settings_shown(self) -> dict[str, str]:
        """The choices that change the numbers, for the detail screen's settings tab."""
        schedule = self.schedule.describe(self.launcher.slice_s)
        s = self.plan.settings
        length = (f"{self.plan.duration_s:g} s of steady training per runner (its own device time)"
                  if self.plan.duration_s else f"{s.steps} steps per runner")
        if self.plan.duration_s and s.steps < DURATION_STEP_CAP:
            length += f", at most {s.steps} steps"
        if self.plan.until:
            length = f"until the headline ratios are sure to ±{self.plan.until * 100:g} %; at most {length}"
        if self.plan.notices:  # the plan chose the schedule in place of the default: why, where it is shown
            schedule += " — " + "; ".join(self.plan.notices)
        shown = {"run folder": str(self.folder.path), "length": length, "schedule": schedule,
                 "recipe": self.plan.recipe.describe(), "precision": self.precision,
                 "keras jit": self.keras_jit, "tf32": "on" if self.tf32 else "off"}
        if self.plan.eval_every_steps or self.plan.eval_every_s:
            every = (f"every {self.plan.eval_every_steps} steps" if self.plan.eval_every_steps
                     else f"every {self.plan.eval_every_s:g} s of steady training")
            shown["validation"] = f"{every} and at the end, timed apart from training"
        if self.plan.target:
            shown["target"] = self.plan.target.describe()
        if self.weights_file:
            shown["initial weights"] = f"the PyTorch model's own ({self.weights_file})"
        if self.checkpoint:
            shown["checkpoint"] = f"{self.checkpoint} (Transformers from_pretrained, KerasHub from_preset)"
        return shown

    async def run_to_end(self, on_event: Callable[[Event], None]) -> None:
        """Start the runners, hand every event to ``on_event``, and stop them whatever happens."""
        await run_headless(self.launcher, on_event)

    def finish(self, states: Iterable[RunnerState]) -> tuple[list, str]:
        """Rank, judge and record the run: runners that never ended count as stopped. Returns the verdict too."""
        states = list(states)
        for state in states:
            if not state.ended:
                state.apply(Phase(state.name, "stopped"))
        p = self.plan
        # The torch runner's final weights are written beside and renamed: a runner stopped mid-write leaves the part.
        (self.folder.path / f"{weights_file.FINAL_NAME}.partial").unlink(missing_ok=True)
        if p.serving:
            from runners.session.verdict.serving import finish_serving

            self._tidy_exports()
            return finish_serving(self.folder, states, self.description, p.workload.name, p.batch_sizes, p.device)
        failed = [s.name for s in states if s.phase == "failed"]
        report = recorded_report(self.folder.path, self.launcher.runner_names, self.parity_context, failed)
        parity = ParityVerdict(report, describe(report, failed, self.parity_context.judged))
        self.parity_verdict = parity
        return finish_run(self.folder, states, self.description, p.workload.name, p.settings.batch_size, p.device,
                          p.target, host_steal=self.steal.share(), parity=parity, until=p.until)

    def close(self) -> None:
        """No runner outlives the view that ends: the last resort after a view returns."""
        self.launcher.kill_now()
        if self.plan.serving:
            self._tidy_exports()

    def _tidy_exports(self) -> None:
        """A serving run's exports: an export a stopped path left half-written goes, and (unless --keep-exports)
        every export once its size was measured (resnet18's thirteen paths write about 400 MiB)."""
        exports = self.folder.path / "exports"
        if not self.plan.keep_exports:
            shutil.rmtree(exports, ignore_errors=True)
            return
        for partial in exports.glob("*.partial"):
            shutil.rmtree(partial, ignore_errors=True)

    def run_record(self) -> dict:
        summary = asdict(self.config)
        summary.pop("cpus")
        summary["runners"] = [s.name for s in self.plan.specs]
        summary["schedule"] = self.schedule.name
        summary["workload_source"] = self.plan.workload.source
        summary["target"] = asdict(self.plan.target) if self.plan.target else None  # for replay and attach
        summary["until"] = self.plan.until
        summary["turns"] = self.plan.turns
        summary["images"] = self.plan.images  # the folder settings.data_path was decoded from
        summary["input"] = self.plan.input_mode if self.plan.images else None
        summary["parity"] = asdict(self.parity_context)  # every view judges parity alike
        summary["kind"] = "infer" if self.plan.serving else "train"  # replay and attach draw a serving run as one
        return {"argv": sys.argv, "config": summary}

    def _meta(self) -> dict:
        from runners.session.record.meta import run_meta
        from runners.session.monitoring.nvml_monitor import NvmlMonitor

        monitor = NvmlMonitor()
        gpus = monitor.describe()
        monitor.close()
        return run_meta(sys.argv, self.run_record()["config"], gpus, monitor.unavailable)


def _create_folder(base: Path, name: str) -> RunFolder:
    try:
        return RunFolder.create(base, name)
    except OSError as exc:
        raise InputError(f"cannot create a run folder in {base}: {exc.strerror or exc}") from None
