"""Runners that span several processes: torchrun's data-parallel ranks, Keras's own data-parallel engines, and
the relay of every rank's events onto its runner's one channel."""
