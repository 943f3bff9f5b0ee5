"""Runs: what trains (``child/``, inside runner subprocesses) and what owns a run (``session/``, in the dashboard process).

The modules here are the contract both sides import, and nothing else:
``protocol`` (the events), ``config`` (what a runner is told to train) and
``specs`` (the runner specs). None of them imports a framework.
"""
