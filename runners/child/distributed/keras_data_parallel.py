"""Keras data-parallel with the backend's own engine.

- jax: ``keras.distribution.DataParallel`` over a one-axis device mesh (XLA all-reduces the gradients); across
  hosts (--hosts), one process a host, joined by ``keras.distribution.initialize`` (``jax.distributed``) into
  one global mesh;
- tensorflow: ``tf.distribute.MirroredStrategy`` over the GPUs, or over logical CPU devices; across hosts,
  ``MultiWorkerMirroredStrategy`` (``runners.child.distributed.keras_multi_worker``, which trains without ``fit()``).

Both train with ``fit()``, which the engine splits across the devices. In one process it takes the global
batch; across hosts each process feeds its own share of every global batch (``process_share``). (Keras on torch
goes through DDP instead: ``runners.child.distributed.ddp_runner``.)
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal

import numpy as np

from runners.protocol import NODE_RANK_ENV, NODES_ENV, RENDEZVOUS_ENV


def node() -> tuple[int, int]:
    """(this process's node rank, how many nodes): one Keras process a host with --hosts."""
    return int(os.environ.get(NODE_RANK_ENV, "0")), int(os.environ.get(NODES_ENV, "1"))


def enter(backend: str, devices: int) -> tuple[contextlib.AbstractContextManager, str]:
    """Set up the engine before anything is built; returns the scope to build and compile in, and the engine in
    words for the panel. Call before the backend's runtime starts (TensorFlow fixes its devices then)."""
    if backend == "jax":
        return contextlib.nullcontext(), _jax_data_parallel(devices)
    if backend == "tensorflow":
        nodes = node()[1]
        if nodes > 1:
            from runners.child.distributed import keras_multi_worker

            return keras_multi_worker.enter(devices, nodes)
        return _mirrored_strategy(devices)
    raise ValueError(f"Keras on {backend} trains data-parallel through DDP (runners.child.distributed.ddp_runner)")


def _jax_data_parallel(devices: int) -> str:
    import keras

    rank, nodes = node()
    if nodes > 1:  # jax.distributed.initialize: node 0's process runs the coordinator, at the run's rendezvous
        keras.distribution.initialize(os.environ[RENDEZVOUS_ENV], num_processes=nodes, process_id=rank)
        # jax.distributed catches SIGTERM (to sync a preemption); a runner must end on it, as the launcher stops
        # a runner whose other host dropped out with SIGTERM (measured: the process lived on, the dashboard hung).
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    found = keras.distribution.list_devices()  # every host's: GPUs, or the CPU split by XLA's host device count
    wanted = devices * nodes
    if len(found) < wanted:
        raise RuntimeError(f"jax sees {len(found)} device(s), {wanted} needed: {found}")
    distribution = keras.distribution.DataParallel(devices=found[:wanted])
    if nodes > 1:
        distribution.auto_shard_dataset = False  # each process feeds its own share (process_share), not tf.data's
    keras.distribution.set_distribution(distribution)
    spread = f" on {nodes} hosts (jax.distributed)" if nodes > 1 else ""
    return f"keras.distribution.DataParallel · {wanted} {found[0].split(':')[0]} devices{spread} · XLA all-reduce"


def process_share(data, batch_size: int):
    """(this process's training arrays, its batch size). Across hosts each process feeds its contiguous share of
    every global batch, in node order, and jax assembles the global batch from the shares
    (``jax.make_array_from_process_local_data``): the batches, and their order, of one device."""
    rank, nodes = node()
    if nodes == 1:
        return data, batch_size
    share = batch_size // nodes

    def cut(array: np.ndarray) -> np.ndarray:
        batches = len(array) // batch_size
        whole = array[: batches * batch_size].reshape(batches, nodes, share, *array.shape[1:])
        return np.ascontiguousarray(whole[:, rank]).reshape(batches * share, *array.shape[1:])

    return dataclasses.replace(data, x=cut(data.x), y=cut(data.y)), share


def agreement(timed: bool):
    """``agree(*flags)``: node 0's flags, on every node. Across hosts, the decisions only node 0 can take (the
    launcher asked it to finish a --duration run; a timed evaluation is due) must be taken by every process at the
    same step, or the others would wait in the next all-reduce. One broadcast a step
    (``jax.experimental.multihost_utils``), only in a run with such decisions (``timed``): in a run of so many
    steps, evaluated every so many steps, every process takes the same decisions on its own."""
    if node()[1] == 1 or not timed:
        return lambda *flags: flags
    from jax.experimental import multihost_utils

    def agree(*flags):
        return tuple(bool(v) for v in multihost_utils.broadcast_one_to_all(np.array(flags, dtype=np.int32)))

    return agree


def _mirrored_strategy(devices: int) -> tuple[contextlib.AbstractContextManager, str]:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [f"/gpu:{index}" for index in range(devices)]
    else:  # the CPU as several logical devices: the strategy then runs a replica on each
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
        names = [device.name for device in tf.config.list_logical_devices("CPU")][:devices]
    strategy = tf.distribute.MirroredStrategy(names)
    extended = strategy.extended
    # The all-reduce the strategy chose (NCCL on GPUs, collective ops on CPUs); private attributes, hence getattr.
    reduction = getattr(extended, "_cross_device_ops", None) or getattr(extended, "_inferred_cross_device_ops", None)
    how = f" · {type(reduction).__name__}" if reduction is not None else ""
    return strategy.scope(), f"tf.distribute.MirroredStrategy · {strategy.num_replicas_in_sync} replicas{how}"
