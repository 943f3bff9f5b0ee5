"""Image folders: make-images writes one, --images DIR trains on it (decoded once, the same pixels in every runner),
and a folder that is not one is refused in one line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from workloads.images.decode import crop_box, decoded
from workloads.images.folder import read_folder
from workloads.images.generate import make_images


def _cli(*args: str, tmp_path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=tmp_path, env={**__import__("os").environ, "KVP_DASH_CACHE": str(tmp_path / "cache")})


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("images") / "shapes"
    assert make_images(root, classes=3, per_class=20, size=40, seed=2) == 60
    return root


def test_make_images_writes_one_subfolder_a_class_of_real_images_at_varied_sizes(folder):
    from PIL import Image

    classes = sorted(p.name for p in folder.iterdir())
    assert classes == ["class_00", "class_01", "class_02"]
    sizes = set()
    for path in (folder / "class_01").iterdir():
        with Image.open(path) as image:
            assert image.format == "JPEG" and image.mode == "RGB"
            sizes.add(image.size)
    assert len(sizes) > 3 and all(32 <= w <= 50 for w, _ in sizes)  # 0.8–1.25 × 40: the pipelines must resize


def test_every_tenth_image_of_a_class_is_held_out_and_labels_follow_the_class_folders(folder):
    images = read_folder(folder)
    assert images.classes == ["class_00", "class_01", "class_02"]
    assert len(images.train) == 54 and len(images.val) == 6
    assert [(p.parent.name, p.name, label) for p, label in images.val[:2]] == [
        ("class_00", "0009.jpg", 0), ("class_00", "0019.jpg", 0)]


def test_the_decoded_arrays_are_the_same_from_the_same_seed_and_the_crops_differ_from_another(folder):
    images = read_folder(folder)
    first, again, other = (decoded(images, 24, 3, seed) for seed in (0, 0, 1))
    assert first["x_train"].shape == (54, 24, 24, 3) and first["x_train"].dtype == np.float32
    assert np.array_equal(first["x_train"], again["x_train"]) and np.array_equal(first["y_train"], again["y_train"])
    assert not np.array_equal(first["x_train"], other["x_train"])  # another seed, other crops and flips
    assert np.array_equal(first["x_val"], other["x_val"])  # validation images are resized whole: no augmentation
    assert decoded(images, 24, 1, 0)["x_train"].shape == (54, 24, 24, 1)  # cnn's grey images


def test_a_crop_box_lies_in_the_image_and_keeps_its_share_of_the_area():
    rng = np.random.default_rng(0)
    for _ in range(200):
        left, top, right, bottom = crop_box(50, 40, rng)
        assert 0 <= left < right <= 50 and 0 <= top < bottom <= 40
        assert (right - left) * (bottom - top) >= 0.3 * 50 * 40


def _first_losses(run) -> dict[str, float]:
    from runners.protocol import Metrics, decode_lines

    found = {}
    for path in run.glob("*.events.jsonl"):
        events, _ = decode_lines(path.read_bytes().splitlines())
        first = next(e for e in events if isinstance(e, Metrics))
        found[first.runner] = first.losses[0]
    return found


def _events(run, runner: str) -> list:
    from runners.protocol import decode_lines

    return decode_lines((run / f"{runner.replace('/', '-')}.events.jsonl").read_bytes().splitlines())[0]


def test_each_runner_trains_vit_through_its_own_pipeline_on_the_same_pixels(folder, tmp_path):
    """--input native (the default with --images): tf.data, PyDataset and DataLoader read the files as they train;
    the same images in the same order with the same crops give the same first losses as the decoded arrays."""
    from runners.protocol import Hello, Metrics

    runs = {}
    for mode, runners in (("native", "torch,keras/jax,keras/tensorflow,keras/torch"), ("memory", "torch,keras/jax")):
        result = _cli("--workload", "vit", "--size", "tiny", "--images", str(folder), "--input", mode, "--headless",
                      "--steps", "20", "--runners", runners, "--schedule", "parallel", "--input-workers", "1",
                      "--output", str(tmp_path / mode), tmp_path=tmp_path)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "parity ✓ verified" in result.stdout, result.stdout[-2000:]
        assert f"images {folder.name} ({mode} input)" in result.stdout
        runs[mode] = next((tmp_path / mode).iterdir())
    native, memory = runs["native"], runs["memory"]
    pipelines = {name: next(e for e in _events(native, name) if isinstance(e, Hello)).input_pipeline
                 for name in ("torch", "keras/jax", "keras/tensorflow", "keras/torch")}
    assert pipelines == {"torch": "DataLoader, Pillow, 1 worker", "keras/jax": "PyDataset, Pillow, 1 worker thread",
                         "keras/tensorflow": "tf.data, tf.image, 1 parallel call",
                         "keras/torch": "DataLoader, Pillow, 1 worker"}
    assert all(next(e for e in _events(memory, n) if isinstance(e, Hello)).input_pipeline is None
               for n in ("torch", "keras/jax"))
    # The same first batch, through a pipeline or from memory: the same first loss, to float32 rounding.
    first_native, first_memory = _first_losses(native), _first_losses(memory)
    for name, loss in first_native.items():
        assert loss == pytest.approx(first_memory["torch"], rel=1e-4), (name, first_native, first_memory)
    # Pillow's pixels exactly in the Pillow pipelines; tf.image's resize rounds a few pixels one level apart, said.
    notes = {name: next(e for e in _events(native, name) if isinstance(e, Hello)).input_note for name in pipelines}
    assert notes["torch"] is None and notes["keras/jax"] is None and notes["keras/torch"] is None
    assert notes["keras/tensorflow"] is None or "/255 from Pillow's pixels" in notes["keras/tensorflow"]
    # The wait for input, wherever the training thread pulls the batches in Python: in every window.
    for name in ("torch", "keras/jax", "keras/torch"):
        waits = [e.input_wait_s for e in _events(native, name) if isinstance(e, Metrics)]
        assert waits and all(w is not None and w >= 0 for w in waits), (name, waits)
        assert sum(waits) > 0, name  # decoding JPEGs is never free
    # Inside tf.data's compiled step nothing sees it; from memory there is none to see.
    assert all(e.input_wait_s is None for e in _events(native, "keras/tensorflow") if isinstance(e, Metrics))
    assert all(e.input_wait_s is None for e in _events(memory, "torch") if isinstance(e, Metrics))
    config = json.loads((native / "run.json").read_text())["config"]
    assert config["images"] == str(folder) and config["input"] == "native"
    cached = list((tmp_path / "cache" / "images").iterdir())
    assert len(cached) == 1 and not any(".partial" in p.name for p in cached)
    with np.load(cached[0]) as arrays:
        assert arrays["x_train"].shape == (54, 32, 32, 3) and set(arrays["y_train"]) == {0, 1, 2}


@pytest.mark.parametrize("damage, message", [
    ("corrupt", "is not a readable image"),
    ("empty class", "has no JPEG or PNG images"),
    ("no classes", "has no class folders"),
])
def test_a_folder_that_is_not_one_is_refused_in_one_line_before_anything_starts(folder, tmp_path, damage, message):
    import shutil

    broken = tmp_path / "broken"
    if damage == "no classes":
        broken.mkdir()
        (broken / "stray.jpg").write_bytes(b"")
    else:
        shutil.copytree(folder, broken)
        if damage == "corrupt":
            (broken / "class_01" / "0004.jpg").write_bytes(b"not a jpeg at all")
        else:
            (broken / "class_03").mkdir()
    result = _cli("--workload", "cnn", "--size", "tiny", "--images", str(broken), "--headless",
                  "--output", str(tmp_path / "runs"), tmp_path=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("args, message", [
    (["--workload", "mlp"], "--images trains image classifiers"),
    (["--workload", "cnn", "--data", "x.npz"], "--images and --data: choose one"),
])
def test_images_for_a_workload_that_cannot_take_them_is_refused(folder, tmp_path, args, message):
    result = _cli(*args, "--images", str(folder), "--headless", "--output", str(tmp_path / "runs"), tmp_path=tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_make_images_refuses_a_folder_that_is_not_empty(folder, tmp_path):
    result = _cli("make-images", str(folder), tmp_path=tmp_path)
    assert result.returncode == 2 and "exists and is not an empty folder" in result.stderr


def test_the_pipelines_alone_deliver_images_and_say_what_they_cost(folder, tmp_path):
    """`kvp-dash pipelines`: each framework's pipeline over the folder, nothing trained, one row each."""
    result = _cli("pipelines", "--images", str(folder), "--image-size", "32", "--batch-size", "8", "--batches", "3",
                  "--input-workers", "1", tmp_path=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    rows = [line.split() for line in result.stdout.splitlines() if "images/s" in line]
    assert [row[0] for row in rows] == ["decode", "DataLoader", "PyDataset", "tf.data"], result.stdout
    for row in rows:
        assert float(row[row.index("images/s") - 1].replace(",", "")) > 0
    assert not list(tmp_path.glob("runs")), "nothing trains"
    refused = _cli("pipelines", "--images", str(tmp_path / "nowhere"), tmp_path=tmp_path)
    assert refused.returncode == 2 and "is not a folder" in refused.stderr and "Traceback" not in refused.stderr
