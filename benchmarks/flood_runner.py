"""A stand-in runner for benchmarks: writes synthetic events to the launcher's channel at a set rate.

    flood_runner.py RUNNER EVENTS_PER_S COUNT

Started by ``tool_performance.py`` through the real Launcher (pipe, pump, record, queue), so the
dashboard's figures include everything a real runner's events cost it, and nothing this script costs.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from runners.protocol import (  # noqa: E402
    EVENT_FD_ENV,  # noqa: E402
    Done,
    Metrics,
    Phase,
)


def main() -> None:
    runner, rate, count = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    fd = int(os.environ[EVENT_FD_ENV])

    def send(event) -> None:
        os.write(fd, (event.to_json() + "\n").encode())

    send(Phase(runner, "importing"))
    send(Phase(runner, "warmup"))
    start = time.perf_counter()
    for step in range(count):
        delay = start + step / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        send(Metrics(runner, first_step=step, step=step, losses=[1.0 / (1 + step)], window_s=1 / rate,
                     batch_size=32, warmup=step < 2))
        if step == 1:
            send(Phase(runner, "training"))
    send(Done(runner, steps=count, train_s=time.perf_counter() - start))
    send(Phase(runner, "done"))


if __name__ == "__main__":
    main()
