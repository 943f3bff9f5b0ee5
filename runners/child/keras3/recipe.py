"""The run's recipe in Keras 3: keras.optimizers with a LearningRateSchedule, global_clipnorm, the task's loss.

Keras's own classes wherever they mean what PyTorch's do; two small subclasses where they do not
(the README's alignment table lists every difference):
- on TensorFlow, embedding gradients are made dense before the update (``dense_gradients``);
- SGD with momentum and weight decay follows PyTorch's formula (``TorchStyleSGD``).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from runners.recipe import ADAM_BETA_1, ADAM_BETA_2, KERAS_ADAM_EPSILON, Recipe


class RecipeSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """``Recipe.factor`` in keras.ops: Keras reads it at ``optimizer.iterations`` (the steps taken so far), so
    step ``k`` trains at the factor of ``k``, as PyTorch's LambdaLR gives it. Keras's own CosineDecay has a
    warm-up but no linear decay or warm-up before a constant rate; one formula for all keeps the two
    frameworks on the same numbers (tests compare it with ``Recipe.factor`` step by step)."""

    def __init__(self, recipe: Recipe, steps: int):
        self.recipe, self.steps = recipe, steps

    def __call__(self, step):
        r = self.recipe
        step = ops.cast(step, "float32")
        warmup = float(r.warmup_steps)
        progress = ops.clip((step - warmup) / float(max(1, self.steps - r.warmup_steps)), 0.0, 1.0)
        if r.schedule == "cosine":
            decayed = 0.5 * (1.0 + ops.cos(math.pi * progress))
        elif r.schedule == "linear":
            decayed = 1.0 - progress
        else:
            decayed = ops.ones_like(progress)
        factor = ops.where(step < warmup, step / max(1.0, warmup), decayed) if r.warmup_steps else decayed
        return r.learning_rate * factor

    def get_config(self):
        return {"recipe": vars(self.recipe), "steps": self.steps}


class TorchStyleSGD(keras.optimizers.SGD):
    """SGD as PyTorch computes it. Keras folds the learning rate into the momentum buffer
    (m = μm − lr·g; w += m), PyTorch applies the current rate to the buffer (b = μb + g; w −= lr·b):
    the same under a constant rate, different under a schedule. PyTorch's weight decay is L2 added
    to the gradient (before momentum); Keras's ``weight_decay`` is decoupled. Both follow PyTorch here."""

    def __init__(self, l2: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.l2 = l2

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        if self.l2:
            gradient = gradient + self.l2 * variable
        direction = gradient
        if self.momentum != 0:
            buffer = self.momentums[self._get_variable_index(variable)]
            new_buffer = buffer * self.momentum + gradient
            self.assign(buffer, new_buffer)
            direction = gradient + self.momentum * new_buffer if self.nesterov else new_buffer
        self.assign_sub(variable, learning_rate * direction)


def dense_gradients(optimizer_class):
    """The optimizer class with TensorFlow's IndexedSlices gradients made dense first.

    TensorFlow hands an embedding's gradient over as IndexedSlices with one
    slice per token occurrence. Keras 3's Adam squares those slices before
    they are summed, so a token seen twice adds g1^2 + g2^2 to the second
    moment instead of (g1 + g2)^2: a different optimizer than on jax, torch
    or PyTorch. Summing them first (a dense gradient, as PyTorch's embedding
    gives) keeps the comparison to one algorithm.
    """
    import tensorflow as tf

    class DenseGradients(optimizer_class):
        def apply(self, grads, trainable_variables=None):
            grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
            return super().apply(grads, trainable_variables)

    DenseGradients.__name__ = f"DenseGradient{optimizer_class.__name__}"
    return DenseGradients


def optimizer(backend: str, recipe: Recipe, steps: int):
    varying = recipe.schedule != "constant" or recipe.warmup_steps
    rate = RecipeSchedule(recipe, steps) if varying else recipe.learning_rate
    common = dict(learning_rate=rate, global_clipnorm=recipe.clip_norm)
    if recipe.optimizer == "sgd":
        cls, settings = TorchStyleSGD, dict(momentum=recipe.momentum, nesterov=recipe.nesterov, l2=recipe.weight_decay)
    else:
        cls = keras.optimizers.AdamW if recipe.optimizer == "adamw" else keras.optimizers.Adam
        settings = dict(beta_1=ADAM_BETA_1, beta_2=ADAM_BETA_2, epsilon=KERAS_ADAM_EPSILON)
        if recipe.optimizer == "adamw":
            # Decoupled, at the scheduled rate, before the update: what torch.optim.AdamW does too.
            settings["weight_decay"] = recipe.weight_decay
    if backend == "tensorflow":
        cls = dense_gradients(cls)
    return cls(**common, **settings)


class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy on class ids with label smoothing, as ``nn.CrossEntropyLoss(label_smoothing=ε)``:
    Keras's SparseCategoricalCrossentropy has no smoothing, its categorical one takes one-hot targets."""

    def __init__(self, smoothing: float, classes: int):
        super().__init__(name="smoothed_sparse_crossentropy")
        self.smoothing, self.classes = smoothing, classes

    def call(self, y_true, y_pred):
        one_hot = ops.one_hot(ops.cast(y_true, "int32"), self.classes)
        return keras.losses.categorical_crossentropy(one_hot, y_pred, from_logits=True,
                                                     label_smoothing=self.smoothing)


def loss_function(task: str, recipe: Recipe, classes: int):
    if task == "multilabel":
        return keras.losses.BinaryCrossentropy(from_logits=True)
    if task == "regression":
        return keras.losses.MeanSquaredError()
    if recipe.label_smoothing:
        return SmoothedSparseCrossentropy(recipe.label_smoothing, classes)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
