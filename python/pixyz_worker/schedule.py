"""Upstream's ``@pixyz_schedule(...)`` decorator."""
from __future__ import annotations

import functools

#: The attribute the decorator leaves on an entrypoint.
SCHEDULE_ATTR = "__pixyz_schedule__"


def pixyz_schedule(*dargs, **options):
    """Marks an entrypoint with scheduling options (``queue``, ``time_limit``, ``wait``, ``timeout``, ``retries``, ``compute_only``, ``name``, ``params``).

    The API reads the constant ones from the script's source at submission, never by running it;
    at run time ``wait`` (join the sub-tasks the entrypoint returns) and ``timeout`` act.
    ``@pixyz_schedule`` without parentheses works too.
    """

    def mark(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return fn(*args, **kwargs)

        setattr(wrapper, SCHEDULE_ATTR, dict(options))
        return wrapper

    if len(dargs) == 1 and callable(dargs[0]) and not options:
        return mark(dargs[0])
    return mark


def schedule_options(fn) -> dict | None:
    return getattr(fn, SCHEDULE_ATTR, None)
