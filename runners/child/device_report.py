"""What one framework sees on this machine, asked in its own subprocess (``kvp-dash doctor``, the device guard).

    python -m runners.child.device_report BACKEND      # jax, tensorflow or torch: one JSON object on stdout

Everything is asked of the framework itself: its devices, its CUDA/cuDNN build, its
TF32 and x64 defaults and how it takes device memory. A framework that cannot be
imported answers with the error instead.
"""

from __future__ import annotations

import json
import os
import sys


def _torch() -> dict:
    import torch

    cuda = torch.cuda.is_available()
    return {
        "version": torch.__version__,
        "devices": [f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())]
        if cuda else ["cpu"],
        "gpu": cuda,
        "cuda": torch.version.cuda,  # None: a CPU-only build
        "cudnn": str(torch.backends.cudnn.version()) if cuda else None,
        "tf32": f"matmul {torch.backends.cuda.matmul.allow_tf32}, cudnn {torch.backends.cudnn.allow_tf32}",
        "memory": "caching allocator, grows on demand",
        "threads": torch.get_num_threads(),
    }


def _jax() -> dict:
    import jax

    devices = jax.devices()
    gpu = devices[0].platform == "gpu"
    return {
        "version": jax.__version__,
        "devices": [f"{d.platform}:{d.id} {d.device_kind}" for d in devices],
        "gpu": gpu,
        "platform": jax.default_backend(),
        "x64": bool(jax.config.jax_enable_x64),
        "tf32": f"default matmul precision {jax.config.jax_default_matmul_precision or 'default (TF32 on Ampere+)'}",
        "memory": "preallocates 75 % of the GPU" if os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE", "true") != "false"
        else "allocates on demand (XLA_PYTHON_CLIENT_PREALLOCATE=false)",
    }


def _tensorflow() -> dict:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    build = tf.sysconfig.get_build_info()
    return {
        "version": tf.__version__,
        "devices": [d.name for d in gpus] or ["cpu"],
        "gpu": bool(gpus),
        "cuda": build.get("cuda_version"),  # None: a CPU-only build (tensorflow-cpu)
        "cudnn": build.get("cudnn_version"),
        "tf32": f"tensor float 32 {'on' if tf.config.experimental.tensor_float_32_execution_enabled() else 'off'}",
        "memory": "grows on demand (TF_FORCE_GPU_ALLOW_GROWTH)" if os.environ.get("TF_FORCE_GPU_ALLOW_GROWTH") == "true"
        else "takes nearly all of the GPU at start",
    }


REPORTS = {"torch": _torch, "jax": _jax, "tensorflow": _tensorflow}


def main(argv: list[str]) -> int:
    backend = argv[0]
    try:
        report = {"backend": backend, **REPORTS[backend]()}
    except Exception as exc:  # noqa: BLE001 - a broken install is an answer too
        report = {"backend": backend, "error": f"{type(exc).__name__}: {exc}"}
    try:
        import keras

        report["keras"] = keras.__version__
    except Exception:  # noqa: BLE001 - the native torch runner needs no keras
        report["keras"] = None
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter goes to stderr, not here
    sys.exit(main(sys.argv[1:]))
