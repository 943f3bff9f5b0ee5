"""Every GPU-only path of kvp-dash, checked on one GPU in a few minutes, its figures written to a JSON file.

Run by ``benchmarks/gpu_check.sh`` (which brings the wheels a bare GPU image lacks).
The checks, in order:
1. ``kvp-dash doctor --device cuda``: every framework's own report of what it sees, and its exit code;
2. an interleaved ``resnet18`` run at the ``base`` size of every runner that can run here, on the GPU:
   every runner finishes; framework memory (the runner's own report) and NVML memory
   (the driver's) are figures, not n/a; MFU is between 1 % and 100 %; the verdict has its interval;
3. timing fidelity against the bare loops on the GPU (``benchmarks/timing_fidelity.py --device cuda``);
4. a vision transformer (``vit`` at ``base``: ViT-B/16, 224 px) on a generated image folder, each runner's own
   input pipeline (``--input native``) against the decoded arrays (``--input memory``): every runner finishes in
   both, images/s and the input wait are figures;
5. a hub model (``llama`` at ``base``: Llama-3.2-1B's shape) in bf16, KerasHub against Transformers from one
   checkpoint: every runner finishes, tokens/s and MFU are figures; ``check`` at ``small`` on the GPU verifies parity.
A runner whose framework is missing (keras/tensorflow on an image without tensorflow) is marked "not run".

    python benchmarks/gpu_check.py [--json gpu_check.json] [--device cuda] [--duration 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runners.specs import SPECS  # noqa: E402

RUN_RUNNERS = ["keras/jax", "keras/tensorflow", "keras/torch", "torch", "torch/compile"]
FIDELITY_RUNNERS = ["keras/jax", "torch"]  # the two that bound the time: one XLA, one eager
HUB_RUNNERS = ["keras/jax", "keras/torch", "torch"]  # KerasHub against Transformers; tensorflow cannot travel


def _check(checks: list, name: str, ok: bool, detail: str) -> None:
    checks.append({"check": name, "ok": bool(ok), "detail": detail})
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)


def _cli(*args: str, timeout_s: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True,
                          timeout=timeout_s, cwd=ROOT)


def doctor(device: str, checks: list) -> dict:
    from runners.session.planning.device_check import ask_frameworks

    started = time.monotonic()
    result = _cli("doctor", "--device", device, timeout_s=240)
    reports = ask_frameworks(sorted({SPECS[r].backend for r in RUN_RUNNERS if not SPECS[r].missing_modules()}), device)
    _check(checks, "doctor", result.returncode == 0,
           f"exit {result.returncode} in {time.monotonic() - started:.0f} s; "
           + "; ".join(f"{b} {r.get('version')}: {', '.join(r.get('devices') or []) or r.get('error')}"
                       for b, r in reports.items()))
    return {"exit_code": result.returncode, "output": result.stdout[-6000:], "frameworks": reports}


def _timed_run(label: str, workload: str, runners: list[str], output: Path, checks: list, *options: str,
               timeout_s: float) -> tuple[subprocess.CompletedProcess, dict, dict]:
    """A headless run of every runner; checked to finish. Returns the process, summary.json and its rows."""
    result = _cli("--headless", "--workload", workload, "--runners", ",".join(runners), "--output", str(output),
                  *options, timeout_s=timeout_s)
    folder = next(output.glob(f"*-{workload}"), None)
    summary = json.loads((folder / "summary.json").read_text()) if folder and (folder / "summary.json").exists() else {}
    rows = {row["runner"]: row for row in summary.get("standings", [])}
    _check(checks, label, result.returncode == 0 and len(rows) == len(runners)
           and all(r["phase"] == "done" for r in rows.values()),
           f"exit {result.returncode}; " + ", ".join(f"{n} {r['phase']}" for n, r in rows.items())
           + (f"; {result.stdout[-400:]}" if result.returncode else ""))
    return result, summary, rows


def _mfu_check(checks: list, label: str, mfu: float | None) -> None:
    _check(checks, label, mfu is not None and 0.01 <= mfu <= 1.0,
           f"{mfu:.1%}" if mfu is not None else "n/a (no peak for this GPU in runners/session/monitoring/peaks.py?)")


def interleaved_run(device: str, size: str, duration_s: float, runners: list[str], output: Path, checks: list) -> dict:
    result, summary, rows = _timed_run(f"interleaved resnet18 {size} run", "resnet18", runners, output, checks,
                                       "--size", size, "--device", device, "--duration", f"{duration_s:g}s",
                                       timeout_s=420)
    for name, row in rows.items():
        framework, nvml = row.get("peak_device_bytes"), row.get("peak_nvml_bytes")
        _check(checks, f"{name} memory", bool(framework) and bool(nvml),
               f"framework peak {framework and framework / 2**30:.2f} GiB, NVML peak {nvml and nvml / 2**30:.2f} GiB"
               if framework and nvml else f"framework {framework}, NVML {nvml} (n/a)")
        _mfu_check(checks, f"{name} MFU", row.get("mfu"))
    verdict = summary.get("verdict", "")
    _check(checks, "verdict with its interval", "95 % CI" in verdict, verdict or "no verdict")
    return {"exit_code": result.returncode, "summary": summary, "output_tail": result.stdout[-4000:]}


def hub_run(device: str, workload: str, size: str, duration_s: float, runners: list[str], output: Path,
            checks: list) -> dict:
    result, summary, rows = _timed_run(f"{workload} {size} bf16 run", workload, runners, output, checks,
                                       "--size", size, "--device", device, "--precision", "bf16",
                                       "--duration", f"{duration_s:g}s", timeout_s=300)
    # Parity in float32 on the GPU (the tolerances are float32's), at the small size to keep it quick.
    check = _cli("check", "--workload", workload, "--size", "small", "--device", device,
                 "--runners", ",".join(runners), "--output", str(output), timeout_s=240)
    _check(checks, f"{workload} parity on the GPU", check.returncode == 0 and "✓ parity verified" in check.stdout,
           check.stdout[-600:])
    for name, row in rows.items():
        _mfu_check(checks, f"{workload} {name} MFU", row.get("mfu"))
    return {"exit_code": result.returncode, "summary": summary, "output_tail": result.stdout[-4000:]}


def vision_run(device: str, size: str, duration_s: float, runners: list[str], output: Path, checks: list) -> dict:
    """vit on a generated folder of JPEGs a little larger than its images (so every pipeline crops and resizes),
    native pipelines against memory; the figures a table in benchmarks/README.md would want."""
    images = output / "images"
    made = _cli("make-images", str(images), "--classes", "10", "--per-class", "40", "--size", "256", timeout_s=120)
    _check(checks, "make-images", made.returncode == 0, made.stderr[-300:])
    figures = {}
    for mode in ("native", "memory"):
        _, _, rows = _timed_run(f"vit {size} --input {mode} run", "vit", runners, output / mode, checks,
                                "--size", size, "--device", device, "--images", str(images), "--input", mode,
                                "--duration", f"{duration_s:g}s", timeout_s=240)
        figures[mode] = {name: {"images_per_s": row.get("throughput"), "input_wait_share": row.get("input_wait_share"),
                                "input_pipeline": row.get("input_pipeline")} for name, row in rows.items()}
    for name, row in figures.get("native", {}).items():
        _check(checks, f"{name} names its input pipeline", bool(row["input_pipeline"]), str(row["input_pipeline"]))
    return figures


def serving_run(device: str, size: str, duration_s: float, output: Path, checks: list) -> dict:
    """`kvp-dash infer` on resnet18 at batch 1, 8 and 64 with every serving path installed on the box: latency
    percentiles, throughput, export cost and parity on the GPU (OpenVINO and LiteRT serve on its CPU)."""
    from runners.serving_paths import PATHS

    paths = [name for name, spec in PATHS.items() if spec.listed and not spec.missing_modules()
             and name != "executorch"]
    skipped = {name: f"not installed: {', '.join(spec.missing_modules())}" for name, spec in PATHS.items()
               if spec.listed and spec.missing_modules()}
    result = _cli("infer", "--headless", "--workload", "resnet18", "--size", size, "--paths", ",".join(paths),
                  "--batch-sizes", "1,8,64", "--duration", f"{duration_s:g}s", "--device", device,
                  "--output", str(output), timeout_s=300)
    folder = next(output.glob("*-resnet18"), None)
    summary = json.loads((folder / "summary.json").read_text()) if folder and (folder / "summary.json").exists() else {}
    rows = summary.get("paths", [])
    failed = sorted({r["runner"] for r in rows if r["phase"] != "done" or r["parity"] is False})
    _check(checks, f"infer resnet18 {size}", bool(rows) and not failed,
           f"exit {result.returncode}; {len({r['runner'] for r in rows})} paths; failed or disagreeing: "
           f"{', '.join(failed) or 'none'}" + (f"; {result.stdout[-400:]}" if result.returncode else ""))
    keep = ("runner", "batch_size", "p50_s", "p90_s", "p99_s", "throughput", "slower_by", "slower_low", "slower_high",
            "precision", "parity", "export_s", "artifact_bytes", "route", "error")
    return {"verdict": summary.get("verdict"), "skipped": skipped,
            "rows": [{k: r.get(k) for k in keep} for r in rows]}


def fidelity(device: str, runners: list[str], pairs: int, checks: list) -> list[dict]:
    with tempfile.NamedTemporaryFile(suffix=".json") as figures:
        result = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "timing_fidelity.py"), "--device", device, "--workloads", "cnn",
             "--runners", ",".join(runners), "--pairs", str(pairs), "--segment", "1", "--json", figures.name],
            capture_output=True, text=True, timeout=300, cwd=ROOT,
        )
        print(result.stdout, flush=True)
        rows = json.loads(Path(figures.name).read_text() or "[]") if result.returncode == 0 else []
    for row in rows:
        low, high = row["fidelity_low"], row["fidelity_high"]
        _check(checks, f"{row['runner']} fidelity", low is not None and 0.97 <= low and high <= 1.03,
               f"{row['fidelity']:.3f} (95 % CI {low:.3f}–{high:.3f}), overhead {row['overhead']:.3f}"
               if low is not None else f"{row['fidelity']:.3f} (no interval)")
    if result.returncode:
        _check(checks, "fidelity benchmark", False, result.stderr[-600:])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("gpu_check.json"))
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                        help="cuda; cpu only to try the script's plumbing on a machine without a GPU")
    parser.add_argument("--duration", type=float, default=10.0, help="steady seconds per runner in the run")
    parser.add_argument("--size", default="base", help="resnet18's size in the run (base: a GPU's ImageNet shape)")
    parser.add_argument("--hub-size", default="base", help="llama's size in the hub run (none: no hub run)")
    parser.add_argument("--vision-size", default="base", help="vit's size in the image-folder runs (none: none)")
    parser.add_argument("--serving-size", default="small", help="resnet18's size in the infer run (none: none)")
    parser.add_argument("--checks", default="doctor,run,serving,fidelity,vision,hub",
                        help="which checks, in this order (a subset tries one on its own)")
    parser.add_argument("--pairs", type=int, default=10,
                        help="fidelity: kvp-dash/bare pairs of 1 s segments per runner, in one process")
    args = parser.parse_args()
    started = time.monotonic()
    runners = [r for r in RUN_RUNNERS if not SPECS[r].missing_modules()]
    not_run = {r: f"not run: {', '.join(SPECS[r].missing_modules())} not installed" for r in RUN_RUNNERS
               if r not in runners}
    for name, why in not_run.items():
        print(f"SKIP  {name}: {why}", flush=True)
    checks: list[dict] = []
    report = {"device": args.device, "runners": runners, "not_run": not_run, "checks": checks}
    wanted = set(args.checks.split(","))
    try:
        if "doctor" in wanted:
            report["doctor"] = doctor(args.device, checks)
        if "run" in wanted:
            with tempfile.TemporaryDirectory() as output:
                report["run"] = interleaved_run(args.device, args.size, args.duration, runners, Path(output), checks)
        if "serving" in wanted and args.serving_size != "none":
            with tempfile.TemporaryDirectory() as output:
                report["serving"] = serving_run(args.device, args.serving_size, min(args.duration, 5.0), Path(output),
                                                checks)
        if "fidelity" in wanted:
            report["fidelity"] = fidelity(args.device, [r for r in FIDELITY_RUNNERS if r in runners], args.pairs,
                                          checks)
        if "vision" in wanted and args.vision_size != "none":
            with tempfile.TemporaryDirectory() as output:
                report["vision"] = vision_run(args.device, args.vision_size, min(args.duration, 5.0),
                                              [r for r in HUB_RUNNERS if r in runners], Path(output), checks)
        if "hub" in wanted and args.hub_size != "none":  # last: a 1B model's preparation and loading take the longest
            with tempfile.TemporaryDirectory() as output:
                hub_runners = [r for r in HUB_RUNNERS if r in runners]
                report["hub"] = hub_run(args.device, "llama", args.hub_size, args.duration, hub_runners,
                                        Path(output), checks)
    except subprocess.TimeoutExpired as exc:
        _check(checks, "time limit", False, f"{' '.join(map(str, exc.cmd))[:200]} ran past {exc.timeout:g} s")
    report["seconds"] = round(time.monotonic() - started, 1)
    report["passed"] = all(c["ok"] for c in checks)
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"{sum(c['ok'] for c in checks)}/{len(checks)} checks passed in {report['seconds']:.0f} s; "
          f"figures in {args.json}", flush=True)
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
