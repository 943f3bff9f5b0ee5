"""``python -m runners.child SPEC CONFIG_JSON``: a runner subprocess (started by the launcher)."""

from runners.child.main import main
from runners.child.quick_exit import exit_now

exit_now(main())  # every event is written and the channel closed
