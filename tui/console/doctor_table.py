"""``kvp-dash doctor``'s tables: what each framework sees, and what the driver sees."""

from __future__ import annotations

from rich.table import Table

from runners.session.planning.device_check import device_kind
from runners.session.state.formatting import fmt_bytes

COLUMNS = ("framework", "version", "keras", "sees", "CUDA", "cuDNN", "TF32", "x64", "device memory")


def frameworks_table(reports: dict[str, dict], device: str) -> Table:
    table = Table(title=f"frameworks (each asked in its own subprocess, as its runner would be on {device})",
                  title_justify="left")
    for column in COLUMNS:
        table.add_column(column)
    for backend, report in reports.items():
        if "error" in report:
            table.add_row(backend, "–", "–", f"[red]{report['error']}[/red]", *("–",) * 5)
            continue
        seen = ", ".join(report.get("devices", [])) or "cpu"
        gpu_wanted = device == "cuda"
        on_gpu = device_kind(seen) == "gpu"
        style = "red" if gpu_wanted != on_gpu else None
        table.add_row(
            backend, report.get("version", "–"), report.get("keras") or "–",
            f"[{style}]{seen}[/{style}]" if style else (seen if on_gpu else "cpu (no GPU)"),
            report.get("cuda") or "none (a CPU build)" if backend != "jax" else "–",
            report.get("cudnn") or "–", report.get("tf32", "–"),
            str(report["x64"]) if "x64" in report else "–", report.get("memory", "–"),
        )
    return table


def gpus_table(gpus: list[dict]) -> Table:
    table = Table(title="GPUs (NVML)", title_justify="left")
    for column in ("index", "name", "memory", "driver"):
        table.add_column(column)
    for gpu in gpus:
        table.add_row(str(gpu["index"]), gpu["name"] or "n/a", fmt_bytes(gpu["memory_bytes"]), gpu["driver"] or "n/a")
    return table
