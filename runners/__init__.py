"""Runners: train a workload in one framework per subprocess and speak the event protocol.

The dashboard imports this package, so nothing here imports a framework at
module level; ``runners.keras_runner`` and ``runners.torch_runner`` are loaded
only inside runner subprocesses.
"""
