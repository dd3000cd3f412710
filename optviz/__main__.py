"""``python -m optviz``: the command line (see :mod:`optviz.cli`)."""

import sys

from optviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
