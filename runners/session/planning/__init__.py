"""Before a run: the user's input checked into a plan, the schedule chosen, CPUs shared, devices checked, and what
every runner loads prepared and cached."""
