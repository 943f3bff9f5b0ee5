"""What each serving path does: export the model (or not), load the artifact, and serve a batch.

A route's ``serve(x)`` takes the batch as a host array in its side's layout (Keras's, or PyTorch's: channels
first, token ids int64) and returns the outputs as a host array: a call is a whole request, the copies to and from
a GPU included, and it has finished when it returns (a host array cannot be pending). Every path is the library's
own exporter and runtime; the names match ``runners.serving_paths``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np


@dataclass
class Context:
    threads: int
    device: str  # "cpu" or "cuda", as the launcher resolved --device
    batch_sizes: list[int]
    keras_predict: bool = False  # --keras-predict: Keras's backends serve through predict_on_batch


def _keras_predict(model):
    """Keras's own per-call path: ``predict_on_batch`` (its data adapter and compiled predict step every call)."""

    def serve(x: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict_on_batch(x))

    return serve


class Route:
    precision = "fp32"
    artifact_format: str | None = None  # None: served as built, nothing written
    max_batch = 64  # the largest batch it will serve: exports with a bounded batch dimension are sized to it
    cpu_only = False  # its runtime serves on the CPU whatever the run's device (OpenVINO, LiteRT, ExecuTorch here)

    def export(self, model, example, folder: Path) -> Path | None:
        return None

    def load(self, model, artifact: Path | None, context: Context) -> Callable[[np.ndarray], np.ndarray]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def _version(module: str) -> str:
    found = getattr(importlib.import_module(module), "__version__", None)
    if found is None:  # ExecuTorch's package has none: its distribution's
        from importlib import metadata

        found = metadata.version(module)
    return found


# --- PyTorch's side: ``model`` is the torch module in eval mode, ``example`` a torch tensor.


def _torch_device(context: Context):
    import torch

    return torch.device("cuda" if context.device == "cuda" and torch.cuda.is_available() else "cpu")


def _torch_caller(module, context: Context):
    import torch

    device = _torch_device(context)

    def serve(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(torch.from_numpy(x).to(device)).float().cpu().numpy()  # .cpu() waits for the GPU

    return serve


def _dynamic_batch(max_batch: int) -> tuple[dict]:
    """The ``dynamic_shapes`` of a one-input model whose batch dimension is free up to ``max_batch``."""
    import torch

    # torch.export specialises a dimension it sees as 1; an example batch of 2 or more keeps it symbolic.
    return ({0: torch.export.Dim("batch", min=1, max=max(max_batch, 2))},)


class TorchEager(Route):
    def load(self, model, artifact, context):
        return _torch_caller(model.to(_torch_device(context)), context)

    def describe(self):
        return f"PyTorch {_version('torch')} eager, inference mode"


class TorchCompile(Route):
    def load(self, model, artifact, context):
        import torch

        return _torch_caller(torch.compile(model.to(_torch_device(context))), context)

    def describe(self):
        return f"torch.compile (inductor), PyTorch {_version('torch')}"


class TorchExport(Route):
    artifact_format = "torch.export program (.pt2)"

    def export(self, model, example, folder):
        import torch

        program = torch.export.export(model, (example,), dynamic_shapes=_dynamic_batch(self.max_batch))
        path = folder / "model.pt2"
        torch.export.save(program, str(path))
        return path

    def load(self, model, artifact, context):
        import torch

        return _torch_caller(torch.export.load(str(artifact)).module().to(_torch_device(context)), context)

    def describe(self):
        return f"torch.export program, PyTorch {_version('torch')}"


def _ort_session(path: Path, context: Context):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = context.threads
    options.inter_op_num_threads = 1
    providers = ["CPUExecutionProvider"]
    if context.device == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    session = ort.InferenceSession(str(path), options, providers=providers)
    name = session.get_inputs()[0].name

    def serve(x: np.ndarray) -> np.ndarray:
        return session.run(None, {name: x})[0]

    return serve, session.get_providers()[0]


class OnnxRuntimeTorch(Route):
    artifact_format = "ONNX (torch.onnx.export, dynamo)"

    def export(self, model, example, folder):
        import torch

        path = folder / "model.onnx"
        torch.onnx.export(model, (example,), str(path), dynamo=True, verbose=False,
                          dynamic_shapes=_dynamic_batch(self.max_batch))
        return path

    def load(self, model, artifact, context):
        serve, self.provider = _ort_session(artifact, context)
        return serve

    def describe(self):
        return f"ONNX Runtime {_version('onnxruntime')} ({getattr(self, 'provider', 'CPU')}) on torch.onnx.export"


def _openvino_compiled(model_or_path, context: Context, precision_hint: str | None):
    import openvino as ov

    config = {"INFERENCE_NUM_THREADS": context.threads}
    if precision_hint:
        # The CPU plugin runs in bf16 where the CPU has it unless told: f32 for outputs equal to the framework's.
        config["INFERENCE_PRECISION_HINT"] = precision_hint
    compiled = ov.Core().compile_model(model_or_path, "CPU", config)
    output = compiled.output(0)

    def serve(x: np.ndarray) -> np.ndarray:
        return compiled(x)[output]

    return serve, _openvino_precision(compiled)


def _openvino_precision(compiled) -> str:
    """The precision a compiled OpenVINO model runs in: "bf16" or "fp32"."""
    chosen = str(compiled.get_property("INFERENCE_PRECISION_HINT")).lower()
    return "bf16" if "bf16" in chosen or "bfloat16" in chosen else "fp32"


class OpenVinoTorch(Route):
    cpu_only = True
    artifact_format = "OpenVINO IR (.xml + .bin)"
    hint: str | None = "f32"

    def export(self, model, example, folder):
        import openvino as ov

        converted = ov.convert_model(model, example_input=example)
        path = folder / "model.xml"
        ov.save_model(converted, str(path), compress_to_fp16=False)  # fp16 weights would be another model
        return path

    def load(self, model, artifact, context):
        serve, self.precision = _openvino_compiled(str(artifact), context, self.hint)
        return serve

    def describe(self):
        return f"OpenVINO {_version('openvino').split('-')[0]} CPU ({self.precision}) on openvino.convert_model"


class OpenVinoTorchDefault(OpenVinoTorch):
    hint = None  # the CPU plugin's own choice: bf16 where the CPU has it


class ExecuTorch(Route):
    cpu_only = True
    artifact_format = "ExecuTorch program (.pte, XNNPACK)"

    def export(self, model, example, folder):
        import torch
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.exir import to_edge_transform_and_lower

        program = torch.export.export(model, (example,), dynamic_shapes=_dynamic_batch(self.max_batch))
        lowered = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()]).to_executorch()
        path = folder / "model.pte"
        path.write_bytes(lowered.buffer)
        return path

    def load(self, model, artifact, context):
        import torch
        from executorch.runtime import Runtime

        method = Runtime.get().load_program(str(artifact)).load_method("forward")

        def serve(x: np.ndarray) -> np.ndarray:
            return method.execute([torch.from_numpy(x)])[0].numpy()

        return serve

    def describe(self):
        return f"ExecuTorch {_version('executorch')} (XNNPACK) on a torch.export program"


STAND_IN_CALL_S, STAND_IN_SLOW_S, STAND_IN_SLOW_EVERY = 0.001, 0.004, 4


class StandIn(Route):
    """A known latency: PyTorch eager's outputs, every call held to STAND_IN_CALL_S and every
    STAND_IN_SLOW_EVERY-th to STAND_IN_SLOW_S by a busy wait (a sleep overshoots by the scheduler's whim). For the percentiles' tests."""

    def load(self, model, artifact, context):
        import time

        eager = _torch_caller(model, context)
        calls = 0

        def serve(x: np.ndarray) -> np.ndarray:
            nonlocal calls
            began = time.perf_counter()
            out = eager(x)
            calls += 1
            until = began + (STAND_IN_SLOW_S if calls % STAND_IN_SLOW_EVERY == 0 else STAND_IN_CALL_S)
            while time.perf_counter() < until:
                pass
            return out

        return serve

    def describe(self):
        return "a stand-in of known latency (kvp-dash's tests)"


# --- Keras's side: ``model`` is the Keras model, ``example`` a host array.


class _KerasBackend(Route):
    """A Keras backend serving the model itself: its compiled call, or (--keras-predict) ``predict_on_batch``."""

    how = ""

    def load(self, model, artifact, context):
        self.predict = context.keras_predict
        return _keras_predict(model) if self.predict else self.compiled(model, context)

    def describe(self):
        return f"Keras {_version('keras')} on {self.library}, " + ("predict_on_batch" if self.predict else self.how)


class KerasJax(_KerasBackend):
    how = "jax.jit"

    @property
    def library(self):
        return f"jax {_version('jax')}"

    def compiled(self, model, context):
        import jax

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]
        # What Keras's own predict step compiles: the stateless call, inference mode, under jax.jit.
        call = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0])

        def serve(x: np.ndarray) -> np.ndarray:
            return np.asarray(call(trainable, frozen, x))  # waits for the device

        return serve


class KerasTensorFlow(_KerasBackend):
    how = "tf.function"

    @property
    def library(self):
        return f"TensorFlow {_version('tensorflow')}"

    def compiled(self, model, context):
        import tensorflow as tf

        call = tf.function(lambda x: model(x, training=False))  # as Keras's predict step: no XLA on a CPU

        def serve(x: np.ndarray) -> np.ndarray:
            return call(x).numpy()

        return serve


class KerasTorch(_KerasBackend):
    how = "eager"

    @property
    def library(self):
        return f"torch {_version('torch')}"

    def compiled(self, model, context):
        import keras
        import torch

        def serve(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return keras.ops.convert_to_numpy(model(x, training=False))

        return serve


class KerasOpenVino(Route):
    """Keras's backend compiles with OpenVINO's defaults (no precision hint: bf16 where the CPU has it) and offers
    no setting for it; the path is served as Keras serves it, and says in which precision."""

    cpu_only = True

    def load(self, model, artifact, context):
        self._model = model
        return _keras_predict(model)  # the backend compiles and caches a model a shape

    @property
    def precision(self) -> str:
        compiled = getattr(getattr(self, "_model", None), "ov_compiled_model", None)
        return _openvino_precision(compiled) if compiled is not None else "fp32"

    def describe(self):
        return (f"Keras {_version('keras')} on its OpenVINO {_version('openvino').split('-')[0]} backend "
                f"({self.precision}, its default)")


class _KerasExport(Route):
    """Keras's own ``model.export`` into ``file_name`` in the format named."""

    format = ""
    file_name = ""

    def export(self, model, example, folder):
        path = folder / self.file_name
        # The OpenVINO exporter takes no verbose flag; the others print a summary without it.
        model.export(str(path), format=self.format, **({} if self.format == "openvino" else {"verbose": False}))
        return path


class SavedModel(_KerasExport):
    artifact_format, format, file_name = "TensorFlow SavedModel", "tf_saved_model", "saved_model"

    def load(self, model, artifact, context):
        import tensorflow as tf

        loaded = tf.saved_model.load(str(artifact))  # held: its function references the object's variables

        def serve(x: np.ndarray) -> np.ndarray:
            return loaded.serve(x).numpy()

        return serve

    def describe(self):
        return f"TensorFlow {_version('tensorflow')} SavedModel (model.export), its serve function"


class OnnxRuntimeKeras(_KerasExport):
    artifact_format, format, file_name = "ONNX (Keras model.export)", "onnx", "model.onnx"

    def load(self, model, artifact, context):
        serve, self.provider = _ort_session(artifact, context)
        return serve

    def describe(self):
        return f"ONNX Runtime {_version('onnxruntime')} ({getattr(self, 'provider', 'CPU')}) on Keras's ONNX export"


class OpenVinoKeras(_KerasExport):
    artifact_format, format, file_name = "OpenVINO IR (.xml + .bin)", "openvino", "model.xml"
    cpu_only = True

    def load(self, model, artifact, context):
        serve, self.precision = _openvino_compiled(str(artifact), context, "f32")
        return serve

    def describe(self):
        return f"OpenVINO {_version('openvino').split('-')[0]} CPU (fp32) on Keras's OpenVINO export"


class LiteRt(_KerasExport):
    artifact_format, format, file_name = "LiteRT flatbuffer (.tflite)", "litert", "model.tflite"
    cpu_only = True

    def load(self, model, artifact, context):
        from ai_edge_litert.interpreter import Interpreter

        interpreters = {}  # one a batch size: resizing an interpreter re-plans its memory

        def interpreter_for(shape):
            found = interpreters.get(shape)
            if found is None:
                found = Interpreter(model_path=str(artifact), num_threads=context.threads)
                found.resize_tensor_input(found.get_input_details()[0]["index"], list(shape))
                found.allocate_tensors()
                interpreters[shape] = found
            return found

        def serve(x: np.ndarray) -> np.ndarray:
            interpreter = interpreter_for(x.shape)
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
            interpreter.invoke()
            return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])  # a copy

        return serve

    def describe(self):
        return f"LiteRT {_version('ai_edge_litert')} interpreter (XNNPACK) on Keras's model.export(format='litert')"


ROUTES: dict[str, type[Route]] = {
    "torch": TorchEager,
    "torch/compile": TorchCompile,
    "torch/export": TorchExport,
    "onnxruntime/torch": OnnxRuntimeTorch,
    "openvino/torch": OpenVinoTorch,
    "openvino/bf16": OpenVinoTorchDefault,
    "executorch": ExecuTorch,
    "stand-in": StandIn,
    "keras/jax": KerasJax,
    "keras/tensorflow": KerasTensorFlow,
    "keras/torch": KerasTorch,
    "keras/openvino": KerasOpenVino,
    "savedmodel": SavedModel,
    "onnxruntime/keras": OnnxRuntimeKeras,
    "openvino/keras": OpenVinoKeras,
    "litert": LiteRt,
}
