"""The native PyTorch runner: its training loop, recipe and weight loading, and the parity noise floor it measures."""
