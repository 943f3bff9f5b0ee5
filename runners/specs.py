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


def parse_runner_list(text: str, registry: dict | None = None, option: str = "--runners",
                      noun: str = "runner spec") -> list[RunnerSpec]:
    """``"keras/jax,torch"`` -> specs of ``registry`` (the training runners unless told); InputError with a one-line
    reason otherwise."""
    registry = SPECS if registry is None else registry
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError(f"{option} needs at least one {noun}")
    unknown = [n for n in names if n not in registry]
    if unknown:
        known = ", ".join(name for name, spec in registry.items() if getattr(spec, "listed", True))
        raise InputError(f"unknown {noun} {unknown[0]!r} (known: {known})")
    if len(set(names)) != len(names):
        raise InputError(f"{option} lists a {noun} twice")
    return [registry[n] for n in names]


def choose_specs(text: str | None, registry: dict | None = None, option: str = "--runners",
                 noun: str = "runner spec", kind: str = "runner",
                 nothing: str = "no framework is installed") -> tuple[list[RunnerSpec], list[str]]:
    """The specs to start (named in ``text``, or every installed default), and notices about default ones skipped
    for lack of a package; a named one whose package is missing is refused."""
    registry = SPECS if registry is None else registry
    if text is not None:
        specs = parse_runner_list(text, registry, option, noun)
        for spec in specs:
            if spec.missing_modules():
                raise InputError(install_hint(spec, kind))
        return specs, []
    defaults = [s for s in registry.values() if s.default]
    installed = [s for s in defaults if not s.missing_modules()]
    if not installed:
        raise InputError(f"{nothing}: pip install 'kvp-dash[all]'")
    return installed, [install_hint(s, kind) for s in defaults if s.missing_modules()]


def install_hint(spec: RunnerSpec, kind: str = "runner") -> str:
    missing = spec.missing_modules()
    return (
        f"{kind} {spec.name} needs {' and '.join(missing)}, which "
        f"{'is' if len(missing) == 1 else 'are'} not installed: "
        f"pip install 'kvp-dash[{spec.extra}]'"
    )
