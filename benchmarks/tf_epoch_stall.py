"""Does plain Keras ``fit()`` on tensorflow stall at an epoch's start when its process is stopped and continued?

No kvp-dash code runs here: a small Keras model is fitted on NumPy arrays, the way
Keras users train, in a fresh process per run. Each run is one of four kinds:

- continuous, tf.data autotuning on (Keras's default pipeline for arrays);
- stopped and continued (SIGSTOP/SIGCONT every ``--period`` seconds, as the
  interleaved schedule stops a waiting runner), autotuning on;
- the same two with ``tf.data.Options().autotune.enabled = False`` on the dataset
  that ``fit()`` builds.

For each run it prints the gap between each epoch's ``on_epoch_begin`` and its first
batch (where ``fit()`` frees the last epoch's iterator and makes the next one), and,
for continuous runs, the wall time of ``fit()``. The kinds alternate run by run, so
the machine's drift falls on all of them alike.

    python benchmarks/tf_epoch_stall.py [--runs 2] [--epochs 8] [--rows 60000] [--period 0.25]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

KINDS = [("continuous", "on"), ("stopped", "on"), ("continuous", "off"), ("stopped", "off")]


def child(autotune: str, epochs: int, rows: int) -> None:
    """Fit, and print one JSON line: each epoch's start gap and fit()'s wall time."""
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    if autotune == "off":
        import tensorflow as tf
        from keras.src.trainers.data_adapters import array_data_adapter

        keras_dataset = array_data_adapter.ArrayDataAdapter.get_tf_dataset

        def without_autotune(self):
            options = tf.data.Options()
            options.autotune.enabled = False
            return keras_dataset(self).with_options(options)

        array_data_adapter.ArrayDataAdapter.get_tf_dataset = without_autotune

    rng = np.random.default_rng(0)
    x = rng.random((rows, 32), dtype=np.float32)
    y = rng.integers(0, 10, rows)
    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    gaps: list[float] = []

    class EpochStartGap(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.began = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                gaps.append(time.perf_counter() - self.began)

    print(json.dumps({"ready": True}), flush=True)
    began = time.perf_counter()
    model.fit(x, y, batch_size=32, epochs=epochs, shuffle=False, verbose=0, callbacks=[EpochStartGap()])
    print(json.dumps({"gaps": gaps, "fit_s": time.perf_counter() - began}), flush=True)


def stop_and_continue(pid: int, period_s: float, done: threading.Event) -> None:
    """Stop the process for ``period_s``, let it run for ``period_s``, until it ends."""
    while not done.wait(period_s):
        try:
            os.kill(pid, signal.SIGSTOP)
            done.wait(period_s)
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            return


def one_run(schedule: str, autotune: str, args) -> dict:
    command = [sys.executable, __file__, "--child", autotune, "--epochs", str(args.epochs), "--rows", str(args.rows)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    done = threading.Event()
    try:
        process.stdout.readline()  # ready: the framework is loaded, fit() starts now
        if schedule == "stopped":
            threading.Thread(target=stop_and_continue, args=(process.pid, args.period, done), daemon=True).start()
        result = json.loads(process.stdout.readline())
    finally:
        done.set()
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
        process.wait()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="runs of each kind, alternating")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--rows", type=int, default=60000, help="rows of the data (batch 32)")
    parser.add_argument("--period", type=float, default=0.25, help="seconds stopped, then seconds running")
    parser.add_argument("--child", choices=["on", "off"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.epochs, args.rows)
        return
    print(f"{args.epochs} epochs of {args.rows // 32} steps per run; stopped: {args.period} s stopped, "
          f"{args.period} s running")
    print(f"{'run':>3}  {'schedule':<10} {'autotune':<8} {'fit s':>7} {'max gap s':>9} {'gaps > 1 s':>10}  gaps (s)")
    for run in range(1, args.runs + 1):
        for schedule, autotune in KINDS:
            result = one_run(schedule, autotune, args)
            gaps = result["gaps"]
            fit_s = f"{result['fit_s']:.1f}" if schedule == "continuous" else "-"
            print(f"{run:>3}  {schedule:<10} {autotune:<8} {fit_s:>7} {max(gaps):>9.2f} "
                  f"{sum(gap > 1 for gap in gaps):>6} of {len(gaps)}  {' '.join(f'{gap:.2f}' for gap in gaps)}",
                  flush=True)


if __name__ == "__main__":
    main()
