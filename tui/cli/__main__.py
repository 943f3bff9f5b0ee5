"""``python -m tui.cli``: the same as the ``kvp-dash`` command."""

import sys

from tui.cli import main

sys.exit(main())
