"""``python -m helpers.explore --write | --check``: the explorers' shipped fallback pictures."""

from .shipped import main

raise SystemExit(main())
