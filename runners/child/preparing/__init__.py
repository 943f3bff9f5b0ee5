"""Preparation subprocesses: the run's initial weights and hub checkpoints, written once before any runner starts."""
