"""The run folder: events and output as they arrive, what the run ran on, and a recorded run played back."""
