"""Runner specs: which framework (and Keras backend) a runner subprocess trains with."""

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
    compile: bool = False  # torch.compile the native PyTorch model
    default: bool = True  # started when --runners is not given

    @property
    def slug(self) -> str:
        """A file-name-safe form of the name."""
        return self.name.replace("/", "-")

    def missing_modules(self) -> list[str]:
        # find_spec locates a package without importing it: the dashboard stays framework-free.
        return [m for m in self.modules if importlib.util.find_spec(m) is None]


SPECS: dict[str, RunnerSpec] = {
    s.name: s
    for s in (
        RunnerSpec("keras/jax", "keras", "jax", ("keras", "jax"), "jax"),
        RunnerSpec("keras/tensorflow", "keras", "tensorflow", ("keras", "tensorflow"), "tensorflow"),
        RunnerSpec("keras/torch", "keras", "torch", ("keras", "torch"), "torch"),
        RunnerSpec("torch", "torch", "torch", ("torch",), "torch"),
        # Opt-in: inductor compiles for minutes on a CPU before the first step.
        RunnerSpec("torch/compile", "torch", "torch", ("torch",), "torch", compile=True, default=False),
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
