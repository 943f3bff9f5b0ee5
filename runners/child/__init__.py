"""Code that runs inside a runner subprocess (``python -m runners.child SPEC CONFIG_JSON``).

The only package that may import a framework (keras, torch, tensorflow, jax), and
only inside the subprocess: ``main`` loads ``keras_runner`` or ``torch_runner``
after setting ``KERAS_BACKEND``. It reports through ``event_writer`` alone.
"""
