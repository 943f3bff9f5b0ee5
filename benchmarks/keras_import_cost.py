"""What the other backends' frameworks cost a Keras runner that keeps them out (runners.child.keras3.frameworks_kept_out).

For Keras on torch and on tensorflow: ``import keras`` in a fresh process, as a runner starts, with jax
installed beside it and with jax kept out, each several times (alternating, so the machine's drift hits both
alike). Prints each run's wall and CPU seconds and peak RSS, then the medians.

    python benchmarks/keras_import_cost.py [REPEATS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One fresh interpreter per measurement: what a runner process pays once, at its start.
PROBE = """
import json, os, resource, sys, time
sys.path.insert(0, {root!r})
started = time.perf_counter()
if os.environ["KEEP_JAX_OUT"] == "1":
    from runners.child.keras3.frameworks_kept_out import keep_jax_out
    keep_jax_out(os.environ["KERAS_BACKEND"])
import keras
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"wall_s": time.perf_counter() - started, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "rss_mib": usage.ru_maxrss / 1024, "jax_loaded": sys.modules.get("jax") is not None}}))
"""


FIGURES = ("wall_s", "cpu_s", "rss_mib")


def measure(backend: str, keep_jax_out: bool) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "KEEP_JAX_OUT": "1" if keep_jax_out else "0"}
    result = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT))], env=env, capture_output=True,
                            text=True, timeout=300, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for backend in ("torch", "tensorflow"):
        runs = {False: [], True: []}
        for _ in range(repeats):
            for kept_out in (False, True):
                figures = measure(backend, kept_out)
                runs[kept_out].append(figures)
                print(f"keras/{backend:<10} jax {'kept out' if kept_out else 'imported':8}  "
                      f"{figures['wall_s']:5.2f} s wall  {figures['cpu_s']:5.2f} s cpu  "
                      f"{figures['rss_mib']:6.0f} MiB  (jax loaded: {figures['jax_loaded']})")
        medians = {kept_out: {key: statistics.median(run[key] for run in found) for key in FIGURES}
                   for kept_out, found in runs.items()}
        saved = {key: medians[False][key] - medians[True][key] for key in medians[False]}
        print(f"keras/{backend}: medians of {repeats}, keeping jax out saves {saved['wall_s']:.2f} s wall, "
              f"{saved['cpu_s']:.2f} s cpu, {saved['rss_mib']:.0f} MiB of RSS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
