"""``python -m pusherd``: the same as the ``pusherd`` command."""

import sys

from pusherd.cli import main

sys.exit(main())
