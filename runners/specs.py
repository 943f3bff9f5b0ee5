"""Runner specs: the registry of runner kinds. Each entry says which framework (and Keras backend) a runner
trains with, what must be installed for it, the module its subprocess runs, what that process does before it
imports anything, and the module that starts its ranks when it spans several devices as separate processes.
Adding a runner is an entry here and its child module; nothing else branches on its name."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from workloads.errors import InputError


@dataclass(frozen=True)
class RunnerSpec:
    name: str  # as typed on the command line, e.g. "keras/jax"
    framework: str  # "keras" or "torch"
    backend: str  # tensor library: "jax", "tensorflow" or "torch"
    modules: tuple[str, ...]  # what must be importable in the runner
    extra: str  # the pip extra that installs those modules
    child: str  # the module whose run(spec, config, writer) trains, inside the runner process
    compile: bool = False  # torch.compile the native PyTorch model
    default: bool = True  # started when --runners is not given
    # "module:function" called with the spec before the child module is imported (Keras: its backend), or None.
    setup: str | None = None
    # The module a runner process runs instead of ``runners.child`` when it trains over several devices or hosts as
    # one process per device (torchrun's ranks); None: one process drives every device (jax, tf.distribute).
    ranks: str | None = None

    @property
    def slug(self) -> str:
        """A file-name-safe form of the name."""
        return self.name.replace("/", "-")

    def missing_modules(self) -> list[str]:
        # find_spec locates a package without importing it: the dashboard stays framework-free.
        return [m for m in self.modules if importlib.util.find_spec(m) is None]


KERAS_CHILD, KERAS_SETUP = "runners.child.keras3.runner", "runners.child.keras3.setup:before_import"
TORCH_CHILD = "runners.child.pytorch.runner"
TORCHRUN_RANKS = "runners.child.distributed.ddp_launch"  # torchrun's elastic launcher, then runners.child.distributed.ddp_rank per rank

SPECS: dict[str, RunnerSpec] = {
    s.name: s
    for s in (
        RunnerSpec("keras/jax", "keras", "jax", ("keras", "jax"), "jax", KERAS_CHILD, setup=KERAS_SETUP),
        RunnerSpec("keras/tensorflow", "keras", "tensorflow", ("keras", "tensorflow"), "tensorflow", KERAS_CHILD,
                   setup=KERAS_SETUP),
        RunnerSpec("keras/torch", "keras", "torch", ("keras", "torch"), "torch", KERAS_CHILD, setup=KERAS_SETUP,
                   ranks=TORCHRUN_RANKS),
        RunnerSpec("torch", "torch", "torch", ("torch",), "torch", TORCH_CHILD, ranks=TORCHRUN_RANKS),
        # Opt-in: inductor compiles for minutes on a CPU before the first step.
        RunnerSpec("torch/compile", "torch", "torch", ("torch",), "torch", TORCH_CHILD, compile=True, default=False,
                   ranks=TORCHRUN_RANKS),
    )
}


def parse_runner_list(text: str) -> list[RunnerSpec]:
    """``"keras/jax,torch"`` -> specs; ValueError with a one-line reason otherwise."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError("--runners needs at least one runner spec")
    unknown = [n for n in names if n not in SPECS]
    if unknown:
        raise InputError(f"unknown runner spec {unknown[0]!r} (known: {', '.join(SPECS)})")
    if len(set(names)) != len(names):
        raise InputError("--runners lists a runner spec twice")
    return [SPECS[n] for n in names]


def install_hint(spec: RunnerSpec) -> str:
    missing = spec.missing_modules()
    return (
        f"runner {spec.name} needs {' and '.join(missing)}, which "
        f"{'is' if len(missing) == 1 else 'are'} not installed: "
        f"pip install 'kvp-dash[{spec.extra}]'"
    )
