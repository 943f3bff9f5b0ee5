"""How much of this machine's CPU time the hypervisor took (steal), sampled while a benchmark runs.

On a virtual machine the host can give a vCPU to another guest while ours wants
to run; Linux counts that time as steal (``runners.session.monitoring.host_steal``). No
schedule causes it, so a benchmark that asks what taking turns does can leave
out the turns it hit; here it is sampled every half second, to tell which.
Off Linux there is no steal to read and nothing is left out.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from runners.session.monitoring.host_steal import cpu_seconds

FILE_NAME = "host-steal.tsv"  # beside a kept run's events, for --from


class StealSampler:
    """Samples the machine's cumulative steal and total CPU seconds every ``every_s`` in a thread of its own."""

    def __init__(self, every_s: float = 0.5):
        self.every_s = every_s
        self.samples: list[tuple[float, float, float]] = []  # (wall time, steal seconds, all CPU seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="steal-sampler", daemon=True)

    def __enter__(self) -> "StealSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            steal, total = cpu_seconds() or (0.0, 0.0)
            self.samples.append((time.time(), steal, total))
            if self._stop.wait(self.every_s):
                return

    def save(self, folder: Path) -> None:
        lines = [f"{t:.3f}\t{steal:.2f}\t{total:.2f}" for t, steal, total in self.samples]
        (folder / FILE_NAME).write_text("\n".join(lines) + "\n")


def load(folder: Path) -> list[tuple[float, float, float]] | None:
    """The samples a kept run saved, or None when it saved none (kept before steal was sampled)."""
    try:
        text = (folder / FILE_NAME).read_text()
    except FileNotFoundError:
        return None
    return [tuple(float(v) for v in line.split("\t")) for line in text.splitlines() if line]


def steal_share(samples: list[tuple[float, float, float]], spans: list[tuple[float, float]]) -> float | None:
    """Steal ÷ all CPU time over the wall-time ``spans``, each sample interval weighed by its overlap with them;
    None when the samples do not cover the spans."""
    stolen = total = 0.0
    for (t0, steal0, all0), (t1, steal1, all1) in zip(samples, samples[1:]):
        if t1 <= t0:
            continue
        overlap = sum(max(0.0, min(end, t1) - max(start, t0)) for start, end in spans)
        if overlap:
            stolen += (steal1 - steal0) * overlap / (t1 - t0)
            total += (all1 - all0) * overlap / (t1 - t0)
    return stolen / total if total > 0 else None
