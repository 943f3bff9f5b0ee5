"""``python -m runners.child SPEC CONFIG_JSON``: a runner subprocess (started by the launcher)."""

import sys

from runners.child.main import main

sys.exit(main())
