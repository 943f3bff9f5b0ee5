"""A user's own model (a .py file) and a user's own data (--data FILE.npz)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import prepared_path
from tests.test_parity import EXAMPLE
from workloads import get_workload


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, timeout=300)


def test_example_file_loads_without_importing_a_framework():
    code = (
        "import sys\n"
        f"from workloads import get_workload\nw = get_workload({EXAMPLE!r})\n"
        "print(w.name, w.trainable_params(w.settings(size='tiny')))\n"
        "print([m for m in ('torch', 'tensorflow', 'jax', 'keras') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [f"tabular {32 * 64 + 64 + 2 * 64 + 64 * 3 + 3}", "[]"]


@pytest.mark.parametrize(
    "body, message",
    [
        ("SIZES = {}\n", "does not implement the workload interface: missing build_keras, build_torch, "
                         "make_dataset, sample_shape"),
        ("SIZES = {}\nTASK = 'ranking'\nbuild_keras = build_torch = make_dataset = sample_shape = None\n",
         "unknown task 'ranking'"),
        ("import torch\nSIZES = {}\n", "imports torch at module level"),
        ("raise RuntimeError('oops')\n", "cannot load workload file"),
        # A classifier must say how many classes its logits range over (else every runner died of a KeyError).
        ("SIZES = {'tiny': {'steps': 1, 'batch_size': 1, 'model': {}}}\n"
         "build_keras = build_torch = make_dataset = sample_shape = None\n",
         "define num_classes(hyper) (how many classes the logits range over), or put \"classes\" in the model "
         "settings of every size (tiny has none)"),
    ],
)
def test_a_file_that_does_not_implement_the_interface_is_named(tmp_path, body, message):
    file = tmp_path / "broken_workload.py"
    file.write_text(body)
    result = cli("--workload", str(file), "--output", str(tmp_path / "runs"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x_train": np.zeros((8, 784), np.float32)}, "has no y_train"),
        ({"x_train": np.zeros((8, 28), np.float32), "y_train": np.zeros(8, np.int64)},
         "x_train has samples of shape (28,); mlp needs (784,)"),
        ({"x_train": np.zeros((8, 784), np.int64), "y_train": np.zeros(8, np.int64)},
         "x_train must hold floating-point features"),
        ({"x_train": np.zeros((8, 784), np.float32), "y_train": np.zeros(7, np.int64)},
         "x_train has 8 samples but y_train has 7"),
        ({"x_train": np.zeros((8, 784), np.float32), "y_train": np.zeros(8, np.float32)},
         "y_train must hold integer class ids"),
        ({"x_train": np.zeros((8, 784), np.float32), "y_train": np.zeros(8, np.int64),
          "x_val": np.zeros((2, 784), np.float32)}, "only one of x_val and y_val"),
    ],
)
def test_bad_data_files_get_one_line(tmp_path, arrays, message):
    data = _npz(tmp_path / "data.npz", **arrays)
    result = cli("--workload", "mlp", "--data", data, "--output", str(tmp_path / "runs"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_data_that_is_not_an_npz(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    result = cli("--data", str(junk), "--output", str(tmp_path / "runs"))
    assert result.returncode == 2 and "is not a readable .npz archive" in result.stderr


def test_runners_train_on_the_users_arrays_with_parity(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 96)
    x = (rng.normal(size=(96, 784)) + 0.5 * np.eye(10)[y].repeat(79, axis=1)[:, :784]).astype(np.float32)
    data = _npz(tmp_path / "mine.npz", x_train=x, y_train=y, x_val=x[:8], y_val=y[:8])
    workload = get_workload("mlp")
    loaded = workload.dataset(workload.settings(size="tiny", steps=6, batch_size=32, data_path=data))
    # Step order is the file's order, cycling when the run is longer than the file.
    assert np.array_equal(loaded.x[:96], x) and np.array_equal(loaded.x[96:192], x)
    result = cli("check", "--workload", "mlp", "--size", "tiny", "--data", data, "--runners", "torch,keras/torch",
                 "--output", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "data mine.npz" in result.stdout and "parity verified" in result.stdout


CONVNET = str(Path(__file__).resolve().parents[1] / "workloads" / "examples" / "convnet_workload.py")
DROPOUT = str(Path(__file__).resolve().parent / "dropout_workload.py")


def test_a_file_without_param_specs_trains_from_the_pytorch_models_own_weights(checked):
    """A convnet with a Flatten before its classifier: the Keras Dense rows are reordered for it. The reordering is
    Keras code, the same on every backend: keras/jax speaks for them here."""
    result, folder = checked(CONVNET, "--runners", "torch,keras/jax")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ parity verified" in result.stdout and "adamw lr 0.002 wd 0.01" in result.stdout  # its RECIPE
    weights = prepared_path(folder)
    assert weights.name == "initial_weights.npz"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    hellos = [json.loads(line) for path in folder.glob("*.events.jsonl")
              for line in path.read_text().splitlines() if '"type": "hello"' in line]
    assert len(hellos) == 2 and {h["weights_sha256"] for h in hellos} == {digest}  # one file, every runner


def test_a_keras_model_that_does_not_match_the_pytorch_one_is_refused_naming_both(tmp_path):
    """The Keras layer one unit wider than the PyTorch one: the runner fails with both names and shapes."""
    source = Path(CONVNET).read_text()
    old = 'Dense(hyper["hidden"], activation'
    assert old in source
    file = tmp_path / "mismatched_workload.py"
    file.write_text(source.replace(old, 'Dense(hyper["hidden"] + 1, activation'))
    result = cli("check", "--workload", str(file), "--size", "tiny", "--runners", "keras/jax",
                 "--output", str(tmp_path / "runs"))
    assert result.returncode == 1
    assert ("Keras layer 'classifier-1' (Dense) holds weights of shapes (128, 33), (33,); PyTorch's "
            "classifier.1.weight (32, 128)") in " ".join(result.stdout.split()), result.stdout


def test_keras_layers_and_pytorch_tensors_without_a_counterpart_are_named():
    """The loader itself (the same code as above, without a run): a layer named after no PyTorch module, a
    PyTorch tensor no Keras layer takes."""
    code = """
import os
os.environ["KERAS_BACKEND"] = "jax"
import keras, numpy as np
from runners.child.keras3.weights import load_initial_weights
from workloads.weights import WeightMismatch
inputs = keras.Input(shape=(4,))
model = keras.Model(inputs, keras.layers.Dense(2, name="fc")(inputs))
tensors = {"head.weight": np.zeros((2, 4), "float32"), "head.bias": np.zeros(2, "float32")}
for weights in (tensors, {**tensors, "fc.weight": np.zeros((2, 4), "float32"), "fc.bias": np.zeros(2, "float32")}):
    try:
        load_initial_weights(model, weights)
    except WeightMismatch as exc:
        print(exc)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    missing, unused = out.stdout.splitlines()
    assert missing.startswith("Keras layer 'fc' (Dense) found no PyTorch tensor 'fc.weight' (PyTorch has head.bias")
    assert unused.startswith("PyTorch tensor 'head.bias' (2,) has no Keras layer (expected one named 'head')")


def test_a_model_with_dropout_passes_check_on_what_can_be_compared(tmp_path):
    result = cli("check", "--workload", DROPOUT, "--runners", "torch,keras/jax", "--output", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "losses not compared: dropout draws different masks" in result.stdout
    assert "initial logits (inference mode)" in result.stdout


FLATTEN_ORDER = Path(__file__).with_name("flatten_order_workload.py")


def _flatten_order_file(tmp_path, style: str, specs: bool) -> Path:
    file = tmp_path / f"flatorder_{style}_{'specs' if specs else 'saved'}.py"
    file.write_text(FLATTEN_ORDER.read_text().replace('STYLE = "permute"', f"STYLE = {style!r}")
                    .replace("SPECS = False", f"SPECS = {specs}"))
    return file


@pytest.mark.parametrize("style, specs, runners", [
    ("permute", False, "torch,keras/jax,keras/tensorflow,keras/torch"),  # PyTorch's order already: no reordering
    pytest.param("sequential", True, "torch,keras/tensorflow", marks=pytest.mark.extended),
    pytest.param("permute", True, "torch,keras/torch", marks=pytest.mark.extended),
    ("plain", False, "torch,keras/jax"),  # Keras's own (h, w, c) order: reordered
])
def test_a_dense_reading_a_flattened_image_gets_its_rows_in_the_order_the_graph_gives(tmp_path, style, specs, runners):
    """The order comes from the layers between the convolution and the Flatten, not from the tensor's shape: a
    Permute((3, 1, 2)) before Flatten (the way porting guides write it) must not be reordered a second time."""
    file = _flatten_order_file(tmp_path, style, specs)
    result = cli("check", "--workload", str(file), "--size", "tiny", "--runners", runners,
                 "--output", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ parity verified" in result.stdout


def test_a_dense_whose_input_order_cannot_be_traced_fails_check_naming_the_layer_and_the_fix(tmp_path):
    """A Lambda swapping height and width before Flatten: the order is not guessed, and check says why it fails."""
    file = _flatten_order_file(tmp_path, "lambda", specs=False)
    result = cli("check", "--workload", str(file), "--size", "tiny", "--runners", "torch,keras/jax",
                 "--output", str(tmp_path / "runs"))
    assert result.returncode == 1
    text = " ".join(result.stdout.split())
    assert "✗ parity failed" in text
    assert ("keras/jax: Keras layer 'classifier-1' (Dense): 'swap_hw' (Lambda) lies between an image and it, and "
            "kvp-dash cannot trace the order") in text, text
    assert "put layers.Permute((3, 1, 2)) just before the Flatten" in text


def test_the_traced_order_follows_the_layout_ops_and_a_subclassed_model_is_named_not_guessed():
    """The index carried through the graph, against the order PyTorch's Flatten gives, for each layout op; a
    subclassed model (no graph) gets a note instead of a guess."""
    code = """
import os
os.environ["KERAS_BACKEND"] = "jax"
import keras, numpy as np
from keras import layers
from runners.child.keras3.feature_order import Unknown, dense_input_order
from runners.child.keras3.weights import order_notes

def order(*middle, data_format="channels_last"):
    inputs = keras.Input((2, 3, 1))
    x = layers.Conv2D(4, 1, name="c")(inputs)
    for layer in middle:
        x = layer(x)
    dense = layers.Dense(2)
    keras.Model(inputs, dense(layers.Flatten(data_format=data_format)(x)))
    found = dense_input_order(dense)
    return found.why if isinstance(found, Unknown) else found.tolist()

torch_order = np.arange(4 * 2 * 3).reshape(4, 2, 3)   # PyTorch's (c, h, w) positions
print(order() == torch_order.transpose(1, 2, 0).reshape(-1).tolist())
print(order(layers.Permute((3, 1, 2))) == list(range(24)))
print(order(layers.Permute((3, 1, 2)), layers.ReLU(), layers.Dropout(0.1)) == list(range(24)))
print(order(layers.Reshape((6, 4))) == order())
# Flatten(data_format="channels_first") moves the first axis last before flattening (Keras's Flatten.call)
print(order(data_format="channels_first") == np.moveaxis(torch_order.transpose(1, 2, 0), 0, -1).reshape(-1).tolist())
print(order(layers.Permute((2, 1, 3))) == torch_order.transpose(2, 1, 0).reshape(-1).tolist())
print(order(layers.Lambda(lambda t: t, name="mystery")))

class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv, self.flat, self.fc = layers.Conv2D(4, 1), layers.Flatten(), layers.Dense(2, name="fc")
    def call(self, x):
        return self.fc(self.flat(self.conv(x)))
model = Subclassed()
model(np.zeros((1, 2, 3, 1), "float32"))
print(order_notes(model))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:6] == ["True"] * 6, lines
    assert lines[6] == ("'mystery' (Lambda) lies between an image and it, and kvp-dash cannot trace the order of the "
                        "features through that")
    assert "Keras layers 'fc' (Dense): the model has no graph kvp-dash can read (a subclassed model)" in lines[7]
