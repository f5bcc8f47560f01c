"""One error type for every expected failure, shown as one clear line instead of a traceback."""

import functools
import sys


class StageError(Exception):
    """A problem the user can fix (bad data, bad params, missing files)."""


def exit_on_stage_error(main):
    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except StageError as error:
            print(f"ERROR: {error}", file=sys.stderr)
            sys.exit(1)

    return wrapper
