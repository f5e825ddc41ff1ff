"""``python -m mlpkit.cli ...``: the ``mlpkit`` command without the installed script."""

import sys

from . import main

sys.exit(main())
