"""The run's pacing defaults, in one place: the CLI's defaults, the launcher's and the app's follow them."""

# The dashboard's frames per second (kvp-dash --refresh), and so how often the channels are read: each read
# makes one frame. Six put 95 % of events on a terminal within 200 ms (benchmarks/tool_performance.py).
DEFAULT_REFRESH_HZ = 6.0

# The interleaved schedule's turn (kvp-dash --slice): long enough for several timing windows (0.5 s each) in
# every turn, of which the one that spans the hand-over and the settling one after it are left out; short
# enough that every panel moves every few seconds and a default run gives each runner several turns to pair.
DEFAULT_SLICE_S = 3.0

# A run's length when neither --steps nor --duration is given (kvp-dash --duration): seconds of steady training
# per runner, its own device time. With 3 s turns that is about seven turns each, six or more of them paired
# (the first holds start-up and compilation): a t-interval on six pairs uses t = 2.57, where three would use
# 4.30 and make every interval too wide to rank by. A time, not a step count, so a GPU run is as long.
DEFAULT_DURATION_S = 20.0
# --until's cap when no --duration is given: steady training seconds per runner (about 4 runners × this, wall).
UNTIL_CAP_S = 120.0
# --until with --repeats auto: the cap on a runner's steady training over all its processes. Each process pays
# its start-up again, so the same precision takes more wall time than in one process.
UNTIL_PROCESSES_CAP_S = 300.0
