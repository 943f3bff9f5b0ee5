"""Code that runs inside a runner subprocess (``python -m runners.child SPEC CONFIG_JSON``).

The only package that may import a framework (keras, torch, tensorflow, jax), and
only inside the subprocess: ``main`` reads the runner's spec (``runners.specs``),
runs its pre-import setup and loads its child module (``keras3``, ``pytorch``, or
a ``distributed`` launcher). It reports through ``event_writer`` alone.
"""
