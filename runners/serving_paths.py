"""Serving paths: the registry of the ways `kvp-dash infer` serves a model. Each is a runner spec (its side is the
framework its weights come from, its backend the tensor library its process loads) whose child module is the
serving runner (``runners.child.serving.runner``); what the path does is its route there
(``runners.child.serving.routes``), under the same name. Adding a path is an entry here and a route there."""

from __future__ import annotations

from dataclasses import dataclass

from runners.specs import KERAS_SETUP, RunnerSpec, choose_specs

SERVING_CHILD = "runners.child.serving.runner"
# The samples a serving runner generates (the workload's own data, from the seed); a larger batch repeats them.
# Serving times calls on the inputs, not learning on them: a training epoch (4,096 samples of resnet18's images
# in every path's process) would be memory held for nothing.
SERVING_SAMPLES = 16


@dataclass(frozen=True)
class PathSpec(RunnerSpec):
    route: str = ""  # the path in words, for --list-paths and the README's table
    listed: bool = True  # False: kvp-dash's own test path, named nowhere a user looks
    # The process's resident memory with its libraries loaded and a tiny model served: its peak RSS serving mlp
    # tiny, rounded down (2026-12-05, CPU builds, Linux): the floor of the memory check before a run
    # (``planning.serving_memory``). torch/compile and executorch, not measured, take PyTorch eager's.
    floor_bytes: int = 0


def _keras(name, backend, modules, extra, route, floor_mib, **kw) -> PathSpec:
    return PathSpec(name, "keras", backend, ("keras", *modules), extra, SERVING_CHILD, setup=KERAS_SETUP,
                    route=route, floor_bytes=floor_mib * 2**20, **kw)


def _torch(name, modules, extra, route, floor_mib, **kw) -> PathSpec:
    return PathSpec(name, "torch", "torch", ("torch", *modules), extra, SERVING_CHILD, route=route,
                    floor_bytes=floor_mib * 2**20, **kw)


PATHS: dict[str, PathSpec] = {
    p.name: p
    for p in (
        _torch("torch", (), "torch", "PyTorch eager, inference mode (the parity reference)", 250),
        _torch("torch/compile", (), "torch", "torch.compile (inductor)", 250, default=False),
        _torch("torch/export", (), "torch", "a torch.export program (ExportedProgram.module())", 350),
        _keras("keras/jax", "jax", ("jax",), "jax", "Keras on jax: the model's stateless call under jax.jit", 350),
        _keras("keras/tensorflow", "tensorflow", ("tensorflow",), "tensorflow",
               "Keras on TensorFlow: the model's call in a tf.function", 600),
        _keras("keras/torch", "torch", ("torch",), "torch", "Keras on torch: the model's call, eager, no grad", 350),
        _keras("keras/openvino", "openvino", ("openvino",), "serving",
               "Keras on its OpenVINO backend (inference only): predict_on_batch", 200),
        _torch("onnxruntime/torch", ("onnxruntime", "onnxscript"), "serving",
               "ONNX Runtime on torch.onnx.export's model", 400),
        _keras("onnxruntime/keras", "torch", ("torch", "onnxruntime", "onnxscript"), "serving",
               "ONNX Runtime on Keras's model.export(format='onnx') (torch backend)", 400),
        _torch("openvino/torch", ("openvino",), "serving",
               "OpenVINO runtime on openvino.convert_model of the PyTorch model", 350),
        _torch("openvino/bf16", ("openvino",), "serving",
               "OpenVINO runtime on the PyTorch model at the CPU plugin's own precision (bf16 where the CPU has it)",
               350),
        _keras("openvino/keras", "tensorflow", ("tensorflow", "openvino"), "serving",
               "OpenVINO runtime on Keras's model.export(format='openvino') (tensorflow backend)", 700),
        _keras("savedmodel", "tensorflow", ("tensorflow",), "tensorflow",
               "TensorFlow SavedModel from Keras's model.export(format='tf_saved_model'), its serve signature", 600),
        _keras("litert", "tensorflow", ("tensorflow", "ai_edge_litert"), "serving",
               "LiteRT (TFLite) interpreter on Keras's model.export(format='litert')", 650),
        _torch("executorch", ("executorch",), "executorch", "ExecuTorch (XNNPACK) on a torch.export program", 250,
               default=False),
        # A path of known latency, for the tests of the percentiles: PyTorch eager's outputs, each call held to
        # STAND_IN_CALL_S (every fourth to STAND_IN_SLOW_S) by a busy wait.
        _torch("stand-in", (), "torch", "a known latency (kvp-dash's own tests)", 250, default=False,
               listed=False),
    )
}


def choose_paths(text: str | None) -> tuple[list[PathSpec], list[str]]:
    """The paths to serve (``--paths``, or every installed default), and notices about default ones skipped."""
    return choose_specs(text, PATHS, "--paths", "serving path", "path", "no serving path is installed")
