"""The outcome: steady-state rankings and their confidence, parity across frameworks, and time to a target."""
