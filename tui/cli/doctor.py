"""``kvp-dash doctor``: what a user runs first on a new box: what each framework, the driver and the CPU see.

Each installed framework is asked in its own subprocess, with the environment its
runner would get (``runners.session.planning.device_check``); NVML says what the driver
sees; the CPU's cores and thread caps come from this process. Problems get one
line each with their fix. The exit code is 1 when a default runner cannot use the
device that ``--device`` (auto: the GPU when NVML finds one) would pick.
"""

from __future__ import annotations

import argparse

from tui.cli.options import command


def register(commands) -> None:
    parser = command(
        commands, "doctor",
        "Ask every installed framework, in its own subprocess, what it sees (devices, CUDA/cuDNN, TF32 and x64 "
        "defaults, memory pre-allocation), and NVML, the driver and the CPU; one line of fix for each problem.",
        doctor,
    )
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="the device a run would use (default: auto = cuda when NVML finds a GPU)")
    parser.add_argument("--no-noise", action="store_true",
                        help="skip the noise probe (two runners training mlp in turns for about half a minute, "
                        "to say how long a sure verdict takes on this machine)")


def _noise(console, installed: list[str], device: str) -> None:
    from runners.session.machine_noise import measure_noise, probe_pair

    pair = probe_pair(installed)
    if pair is None:
        console.print("noise: not measured (it pairs two installed runners)")
        return
    import os

    busy = os.getloadavg()[0]
    if busy > 0.5:  # other work on the machine now is in the noise the probe measures
        console.print(f"noise: note: the machine is busy (load {busy:.1f} on {os.cpu_count()} cores); the figures "
                      "below include that load")
    with console.status(f"measuring this machine's turn-to-turn noise ({' and '.join(pair)} on mlp, "
                        "about half a minute; --no-noise skips it)…"):
        noise = measure_noise(pair, device)
    if noise is None:
        console.print("noise: the probe gave fewer than three paired turns; run it again on a quieter machine")
        return
    for line in noise.sentences(runners=max(2, len(installed))):
        console.print(f"noise: {line}")


def doctor(args: argparse.Namespace) -> int:
    import os

    from runners.session.planning.device_check import ask_frameworks, mixed_device_lines
    from runners.session.monitoring.host_steal import StealMeter, steal_sentence
    from runners.session.monitoring.nvml_monitor import NvmlMonitor
    from runners.session.planning.plan import resolve_device
    from runners.specs import SPECS, install_hint
    from tui.console.doctor_table import frameworks_table, gpus_table
    from tui.console.output import console as output_console

    console = output_console()
    steal = StealMeter()  # over the frameworks' checks below: seconds of busy CPU
    monitor = NvmlMonitor()
    gpus = monitor.describe()
    monitor.close()
    device, _ = resolve_device(args.device, None)
    defaults = [spec for spec in SPECS.values() if spec.default]
    installed = [spec for spec in defaults if not spec.missing_modules()]
    with console.status("asking each framework what it sees…"):
        reports = ask_frameworks([spec.backend for spec in installed], device)
    console.print(f"[b]kvp-dash doctor[/b] · a run would use: {device}"
                  + ("" if gpus else f" (no GPU: {monitor.unavailable or 'NVML found none'})"))
    console.print(frameworks_table(reports, device))
    if gpus:
        console.print(gpus_table(gpus))
    affinity = len(os.sched_getaffinity(0))
    share = steal.share()
    caps = {name: os.environ[name] for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
            if name in os.environ}
    console.print(f"cpu: {os.cpu_count()} cores, {affinity} usable by this process"
                  + (f"; thread caps {', '.join(f'{k}={v}' for k, v in caps.items())}" if caps else "; no thread caps set")
                  + (f"; hypervisor steal {share:.1%} while doctor ran" if share is not None else ""))
    problems = mixed_device_lines(installed, reports, device)
    notes = [install_hint(spec) for spec in defaults if spec.missing_modules()]
    shared = steal_sentence(share, during="these checks")
    if shared:
        notes.append(f"{shared[0].upper()}{shared[1:]}: on CPU, run more turns (--duration) or --repeats, "
                     "or use a dedicated machine")
    for note in notes:
        console.print(f"note: {note}")
    for problem in problems:
        console.print(f"[red]✗ {problem}[/red]")
    if problems:
        return 1
    if not args.no_noise:
        _noise(console, [spec.name for spec in installed], device)
    console.print(f"[green]✓[/green] every installed default runner trains on the {device}")
    return 0
