"""During a run: runner processes started, their channels pumped, recorded, their turns kept and their exits read."""
