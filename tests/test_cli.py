"""Bad input: one line on stderr, exit code 2, no traceback, nothing started."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from runners.session.planning import plan
from runners.specs import SPECS
from tui import cli
from workloads import get_workload
from workloads.errors import InputError

FRAMEWORKS = ("torch", "tensorflow", "jax", "keras")


def run_cli(*args: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args, "--output", str(tmp_path / "runs")],
        capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--workload", "nope"], "unknown workload 'nope' (known: mlp, cnn, resnet18, lstm, gpt, llama, gemma, gpt2, "
                                    "qwen2, bert, vit, deit, dinov2, swin, a path to a .py file, or hub:CHECKPOINT_FOLDER)"),
        (["--workload", "missing_file.py"], "missing_file.py does not exist"),
        (["--size", "huge"], "argument --size: invalid choice: 'huge'"),
        (["--seq-len", "16"], "--seq-len does not apply to mlp, which is not a sequence workload"),
        (["--workload", "vit", "--image-size", "96"], "--image-size does not apply to vit: its images are its "
                                                      "checkpoint's 64 px at this size"),
        (["--workload", "vit", "--seq-len", "16"], "--seq-len does not apply to vit, which is not a sequence workload"),
        (["--repeats", "auto", "--headless"], "--repeats auto runs processes until a precision: give it with --until"),
        (["--until", "5%", "--repeats", "3", "--headless"], "--until with --repeats: use --repeats auto"),
        (["--until", "5%", "--repeats", "auto"], "--repeats runs whole runs one after another: use it with --headless"),
        (["--repeats", "many", "--headless"], "argument --repeats: "),
        (["check", "--workload", "nope"], "unknown workload 'nope'"),
        (["check", "--runners", "keras/theano"], "unknown runner spec 'keras/theano'"),
        (["--runners", "keras/theano"], "unknown runner spec 'keras/theano'"),
        (["--runners", "torch,torch"], "lists a runner spec twice"),
        (["--runners", ","], "needs at least one runner spec"),
        (["--steps", "0"], "argument --steps: must be at least 1, got 0"),
        (["--steps", "many"], "argument --steps: expected a whole number, got 'many'"),
        (["--batch-size", "-3"], "argument --batch-size: must be at least 1, got -3"),
        (["--workload", "resnet18", "--image-size", "16"], "--image-size for resnet18 must be at least 32"),
        (["--workload", "mlp", "--image-size", "64"], "--image-size does not apply to mlp"),
        (["--seed", "-1"], "argument --seed: must be between 0 and 2**32-1"),
        (["--refresh", "0"], "argument --refresh: must be between 0.2 and 60"),
        (["--workload", "resnet18", "--size", "large", "--batch-size", "8192"], "GiB per runner at batch 8192 (limit 4 GiB); lower --batch-size or --image-size"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--device", "cpu", "--gpus", "0"], "--gpus needs --device cuda or auto"),
        (["--gpus", "x"], "argument --gpus: expected GPU indices like 0,1"),
        (["--precision", "fp8"], "argument --precision: invalid choice: 'fp8'"),
        (["--schedule", "random"], "argument --schedule: invalid choice"),
        (["--duration", "soon"], "argument --duration: expected a time like 60s, 2m or 90, got 'soon'"),
        (["--duration", "0.5s"], "argument --duration: must be between 1 s and a week"),
        (["sweep", "--duration", "200h"], "argument --duration: must be between 1 s and a week"),
        (["--until"], "argument --until: expected one argument"),
        (["--until", "soon"], "argument --until: expected a half-width like ±5% or 10%, got 'soon'"),
        (["--until", "0%"], "argument --until: must be above 0 % and below 100 %, got '0%'"),
        (["--until", "±100%"], "argument --until: must be above 0 % and below 100 %"),
        (["--until", "5%", "--schedule", "parallel"], "--until is judged on paired turns: it needs the interleaved"),
        (["--until", "5%", "--runners", "torch"], "--until compares runners: name two or more in --runners"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    result = run_cli(*args, tmp_path=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kvp-dash: error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists(), "nothing may start on bad input"


def _hide_modules(monkeypatch, *hidden: str):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in hidden else real_find_spec(name, *a)
    )


def test_requested_runner_without_its_framework_names_the_extra(monkeypatch, capsys, tmp_path):
    _hide_modules(monkeypatch, "jax")
    code = cli.main(["--runners", "keras/jax,torch", "--output", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [
        "kvp-dash: error: runner keras/jax needs jax, which is not installed: pip install 'kvp-dash[jax]'"
    ]
    assert not list(tmp_path.iterdir())


def test_no_framework_at_all(monkeypatch, capsys, tmp_path):
    _hide_modules(monkeypatch, *FRAMEWORKS)
    assert cli.main(["--output", str(tmp_path)]) == 2
    assert "no framework is installed: pip install 'kvp-dash[all]'" in capsys.readouterr().err


def test_default_runners_skip_missing_frameworks_with_a_notice(monkeypatch):
    _hide_modules(monkeypatch, "tensorflow")
    specs, skipped = plan.choose_runners(None)
    assert [s.name for s in specs] == ["keras/jax", "keras/torch", "torch"]
    assert skipped == [
        "runner keras/tensorflow needs tensorflow, which is not installed: pip install 'kvp-dash[tensorflow]'"
    ]


def test_list_shows_workloads_and_runner_status(monkeypatch, capsys):
    _hide_modules(monkeypatch, "tensorflow")
    assert cli.main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in ("mlp", "cnn", "resnet18", "lstm", "gpt"):
        assert f"  {name} " in out
    assert "keras/jax          installed" in out
    assert "keras/tensorflow   missing tensorflow: pip install 'kvp-dash[tensorflow]'" in out


def test_dashboard_process_never_imports_a_framework():
    """--help, --list and the whole app module load without torch, tensorflow, jax or keras."""
    code = (
        "import sys, contextlib, io\n"
        "from tui import cli, app\n"
        "import runners.session.launching.launcher, runners.session.state.runner_state\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    cli.main(['--list'])\n"
        "    try:\n"
        "        cli.main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"loaded = [m for m in {FRAMEWORKS!r} if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_cuda_requested_on_a_machine_without_one(tmp_path):
    from runners.session.monitoring.nvml_monitor import NvmlMonitor

    if NvmlMonitor().device_count():
        pytest.skip("this machine has an NVIDIA GPU")
    result = run_cli("--device", "cuda", tmp_path=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "--device cuda / --gpus: no usable NVIDIA GPU (" in result.stderr


def test_epochs_are_as_long_as_memory_allows_and_data_that_fits_no_epoch_is_refused():
    """The OOM killer is no message: runners together, TensorFlow's copy counted, against available memory."""
    workload = get_workload("mlp")
    settings = workload.settings(size="small", steps=20000, batch_size=64)
    specs = [SPECS[name] for name in ("keras/jax", "keras/tensorflow", "keras/torch", "torch")]
    weight = 2.8 + 3 * 1.3
    # Plenty of memory: epochs of 1 GiB (5,349 steps here), as in any run up to that length.
    roomy = plan.fit_data_in_memory(workload, settings, specs, "parallel", available=64 * 2**30)
    assert roomy.epoch_bytes == 2**30 and workload.data_bytes(roomy) == 5349 * 64 * 784 * 4
    # Less memory: shorter epochs, the runners' data together within what is available.
    tight = plan.fit_data_in_memory(workload, settings, specs, "parallel", available=2 * 2**30)
    assert workload.data_bytes(tight) * weight <= 2 * 2**30 and workload.data_bytes(tight) >= 4096 * 784 * 4
    # Not even one pass over the 4,096 samples fits: refused, with what to change.
    pool = 4096 * 784 * 4
    with pytest.raises(InputError, match=r"12 MiB per runner at batch 64: .* together .*--schedule sequential"):
        plan.fit_data_in_memory(workload, settings, specs, "parallel", available=int(pool * weight * 0.9))
    # One at a time, only the largest runner (TensorFlow's) has to fit.
    plan.fit_data_in_memory(workload, settings, specs, "sequential", available=int(pool * 2.9))


def test_check_takes_a_runs_precision_and_judges_it_against_that_precisions_floor(tmp_path):
    """A bf16 run can be checked as it ran: the reference measures its floor at bf16 rounding, so the Keras
    runners' logits (about 1e-3 apart in bf16, ten times fp32's 1e-4 tolerance) are judged against it."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "tui.cli", "check", "--workload", "mlp", "--size", "tiny",
                             "--precision", "bf16", "--keras-jit", "off", "--runners", "torch,keras/jax",
                             "--output", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    text = " ".join(result.stdout.split())
    assert "✓ parity verified" in text and "bf16 rounding (mixed precision)" in text
    assert "torch, perturbed (floor)" in text


def test_the_version_and_a_mistyped_command():
    import subprocess
    import sys

    version = subprocess.run([sys.executable, "-m", "tui.cli", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("kvp-dash 0.")
    typo = subprocess.run([sys.executable, "-m", "tui.cli", "chek", "--workload", "mlp"], capture_output=True,
                          text=True)
    assert typo.returncode == 2
    assert typo.stderr == "kvp-dash: error: unknown command 'chek' (did you mean 'kvp-dash check'?)\n"
    runners_help = subprocess.run([sys.executable, "-m", "tui.cli", "--help"], capture_output=True, text=True)
    assert "torch/compile on request" in " ".join(runners_help.stdout.split())
