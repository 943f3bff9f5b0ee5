"""A user's own workload: a Python file (``kvp-dash --workload path/to/file.py``) or a
workload another package registers under the ``kvp_dash.workloads`` entry-point group.

A file defines, at module level, the same pieces as a built-in workload (see
``workloads/examples/tabular_workload.py``), or a ``WORKLOAD = Workload(...)``.
It must import frameworks only inside its builders: the dashboard loads the
file too, and the dashboard never imports a framework.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable

from workloads.base import SizePreset, Workload
from workloads.errors import InputError
from workloads.tasks import get_task

ENTRY_POINT_GROUP = "kvp_dash.workloads"
FRAMEWORKS = ("torch", "tensorflow", "jax", "keras")
REQUIRED = ("SIZES", "build_keras", "build_torch", "make_dataset", "sample_shape")
OPTIONAL = {
    "NAME": "name",
    "DESCRIPTION": "description",
    "DEFAULT_SIZE": "default_size",
    "INPUT_DTYPE": "input_dtype",
    "TASK": "task",
    "RECIPE": "recipe",
    "TORCH_INPUT_AXES": "torch_input_axes",
    "MIN_IMAGE_SIZE": "min_image_size",
    "target_shape": "target_shape",
    "num_classes": "num_classes",
    "load_keras_weights": "load_keras_weights",
    "load_torch_weights": "load_torch_weights",
}


def load_workload_file(path: str) -> Workload:
    file = Path(path)
    if not file.is_file():
        raise InputError(f"workload file {path} does not exist")
    module_name = f"kvp_dash_user_workload_{file.stem}"
    # The file may import modules beside it; its folder goes last, so kvp-dash's own packages are never shadowed.
    folder = str(file.resolve().parent)
    if folder not in sys.path:
        sys.path.append(folder)
    frameworks_before = {m for m in FRAMEWORKS if m in sys.modules}
    try:
        spec = importlib.util.spec_from_file_location(module_name, file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any error in user code becomes one line
        raise InputError(f"cannot load workload file {path}: {type(exc).__name__}: {exc}") from None
    imported = sorted({m for m in FRAMEWORKS if m in sys.modules} - frameworks_before)
    if imported:
        raise InputError(
            f"workload file {path} imports {', '.join(imported)} at module level; "
            "import frameworks inside build_keras/build_torch so the dashboard stays framework-free"
        )
    return workload_from_module(module, source=str(file.resolve()), default_name=file.stem)


def workload_from_module(module: ModuleType, source: str, default_name: str) -> Workload:
    existing = getattr(module, "WORKLOAD", None)
    if isinstance(existing, Workload):
        return existing
    missing = [name for name in REQUIRED if not hasattr(module, name)]
    if missing:
        raise InputError(
            f"{source} does not implement the workload interface: missing {', '.join(missing)} "
            "(see workloads/examples/convnet_workload.py)"
        )
    optional = {field: getattr(module, attr) for attr, field in OPTIONAL.items() if hasattr(module, attr)}
    if "task" in optional:
        get_task(optional["task"])  # an unknown task fails here, in one line
    optional.setdefault("name", default_name)
    optional.setdefault("description", (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else "")
    try:
        sizes = {k: v if isinstance(v, SizePreset) else SizePreset(**v) for k, v in module.SIZES.items()}
    except (TypeError, AttributeError) as exc:
        raise InputError(f"{source}: SIZES must map size names to SizePreset(...) or dicts: {exc}") from None
    task = get_task(optional.get("task", "classification"))
    unsized = [name for name, preset in sizes.items() if "classes" not in preset.model]
    if task.target_dtype == "int64" and "num_classes" not in optional and unsized:
        raise InputError(f"{source}: define num_classes(hyper) (how many classes the logits range over), or put "
                         f"\"classes\" in the model settings of every size ({', '.join(unsized)} has none)")
    return Workload(
        keras_builder=module.build_keras,
        torch_builder=module.build_torch,
        # Without param_specs, the PyTorch model's own initial weights are used (saved before the runners start).
        param_specs=getattr(module, "param_specs", None),
        make_dataset=module.make_dataset,
        sample_shape=module.sample_shape,
        sizes=sizes,
        source=source,
        **optional,
    )


def entry_point_workloads() -> dict[str, Callable[[], Workload]]:
    """Registered workloads by name; each is loaded only when asked for."""

    def loader(entry_point):
        def load() -> Workload:
            loaded = entry_point.load()
            if isinstance(loaded, Workload):
                return loaded
            return workload_from_module(loaded, source=f"entry point {entry_point.value}", default_name=entry_point.name)

        return load

    return {ep.name: loader(ep) for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
