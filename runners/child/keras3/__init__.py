"""Keras 3 runners on one backend (jax, tensorflow, torch): the training loop, its recipe, weight loading and the
feature order a Keras graph reads."""
