"""``python -m autograder.demo``: grade the sample class (see :mod:`.run`)."""

import sys

from .run import main

sys.exit(main())
