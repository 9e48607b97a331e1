"""``python -m uniml``: the same as the ``uniml`` command (see :mod:`uniml.cli`)."""

import sys

if __name__ == "__main__":
    from uniml.cli import main

    sys.exit(main())
