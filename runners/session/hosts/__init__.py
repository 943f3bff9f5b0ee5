"""Runs across hosts: the gate where other hosts join the dashboard's run, and the joining host's side."""
