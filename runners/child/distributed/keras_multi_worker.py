"""Keras on tensorflow across hosts: ``tf.distribute.MultiWorkerMirroredStrategy``, one worker a host, the
cluster read from ``TF_CONFIG`` (set by kvp-dash on every host from the hosts that joined).

Keras 3.15's ``fit()`` cannot start under this strategy: before the first step it reduces the first batch
across the workers (``_maybe_symbolic_build``) and fails ("unsupported type PerReplica"), with numpy input and
tf.data alike. So this runner runs what ``fit()`` runs, without ``fit()``'s loop: Keras's own ``train_step``
(the compiled loss, the Keras optimizer, which all-reduces the gradients across the workers), given to the
strategy in a ``tf.function``, step after step, with the callbacks called as ``fit()`` calls them. The panel
says so.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

_strategy: tf.distribute.Strategy | None = None  # the one of this process, from enter()

ENGINE = ("tf.distribute.MultiWorkerMirroredStrategy · {replicas} workers on {nodes} hosts (TF_CONFIG) · "
          "Keras's train_step in a custom loop: fit() cannot start under this strategy in Keras 3.15")


def enter(devices: int, nodes: int):
    """The strategy's scope, and the engine in words. Call before TensorFlow's runtime starts."""
    if devices > 1:  # each worker feeds its one replica its share: several local replicas would each get it all
        raise RuntimeError("keras/tensorflow across hosts trains on one device a host: use --devices 1")
    global _strategy
    strategy = _strategy = tf.distribute.MultiWorkerMirroredStrategy()
    return strategy.scope(), ENGINE.format(replicas=strategy.num_replicas_in_sync, nodes=nodes)


def build(model, x: np.ndarray, y: np.ndarray) -> None:
    """Create the optimizer's and the compiled loss's variables now, in the strategy's scope, from one batch of
    this worker's (``fit()`` would, from a batch reduced across the workers: the step that fails)."""
    with _strategy.scope():
        model._symbolic_build(data_batch=(x, y))


def agreement(timed: bool):
    """``agree(*flags)``: node 0's flags on every worker (a sum where only node 0 contributes), one all-reduce a
    step, only in a run with decisions node 0 alone takes (``timed``: see keras_data_parallel.agreement)."""
    if not timed:
        return lambda *flags: flags
    strategy = _strategy
    mine = strategy.cluster_resolver.task_id == 0

    @tf.function
    def summed(values):  # float32: the collective all-reduce on CPUs takes no integers
        return strategy.reduce("SUM", strategy.run(tf.identity, args=(values,)), axis=None)

    def agree(*flags):
        values = tf.constant([float(f) if mine else 0.0 for f in flags], tf.float32)
        return tuple(bool(v > 0.5) for v in summed(values).numpy())

    return agree


def train_steps(model, data, batch_size: int, steps: int, callbacks: list) -> None:
    """Train ``steps`` steps of this worker's share (``batch_size`` rows of every global batch), epoch after epoch
    over arrays laid out in step order, as ``fit()`` would: metrics reset each epoch, ``logs["loss"]`` the epoch's
    running mean over the whole global batch (the workers' means, averaged: equal shares)."""
    strategy = _strategy
    hooks = keras.callbacks.CallbackList(callbacks, model=model)

    @tf.function
    def step(x, y):
        logs = strategy.run(model.train_step, args=((x, y),))
        return strategy.reduce("MEAN", logs["loss"], axis=None)

    per_epoch = data.epoch_batches(batch_size)
    model.stop_training = False
    hooks.on_train_begin()
    taken, epoch = 0, 0
    while taken < steps and not model.stop_training:
        model.reset_metrics()
        hooks.on_epoch_begin(epoch)
        for batch in range(min(per_epoch, steps - taken)):
            hooks.on_train_batch_begin(batch)
            if model.stop_training:
                break
            rows = slice(batch * batch_size, (batch + 1) * batch_size)
            loss = step(tf.constant(data.x[rows]), tf.constant(data.y[rows]))
            hooks.on_train_batch_end(batch, {"loss": float(loss)})
            taken += 1
        hooks.on_epoch_end(epoch, {})
        epoch += 1
    hooks.on_train_end()
