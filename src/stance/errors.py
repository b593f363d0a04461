"""User mistakes end in one `error:` line and a hint, not a traceback; tracebacks only when asked for
(`HYDRA_FULL_ERROR=1`, or `stance --debug`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


class UserError(ValueError):
    """A mistake the user can fix from the message alone; `hint` says where to look."""

    hint = ""


class ConfigError(UserError):
    """An option with a value the code cannot use."""

    hint = "fix that option on the command line or in the config"


@contextmanager
def reported(debug: bool = False) -> Iterator[None]:
    """Entry points run inside this: a `UserError`, a missing file or a missing mandatory option is printed as
    `error: <message>` (plus a hint) and exits with status 1; anything else is a bug and keeps its traceback."""
    from omegaconf.errors import MissingMandatoryValue

    debug = debug or os.environ.get("HYDRA_FULL_ERROR") == "1"
    try:
        yield
    except (UserError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError,
            MissingMandatoryValue) as err:
        if debug:
            raise
        if isinstance(err, MissingMandatoryValue):
            key = getattr(err, "full_key", None) or str(err).splitlines()[0]
            message, hint = f"the option {key}= is required", f"add {key}=... to the command line"
        else:
            message, hint = str(err), getattr(err, "hint", "")
        print(f"error: {message}", file=sys.stderr)
        if hint:
            print(f"hint: {hint}", file=sys.stderr)
        raise SystemExit(1) from None
