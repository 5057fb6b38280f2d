"""What an upstream job script imports: ``from pixyz_worker.script import *``."""
from __future__ import annotations

import os  # noqa: F401  (upstream's script module exposed os: its examples call os.getcwd())
from datetime import datetime  # noqa: F401

from .canvas import chain, chord, chunks, group, signature, subtask
from . import exception as _exception
from .exception import *  # noqa: F401,F403
from .local import LocalPixyzTask
from .pc import ProgramContext
from .result import AsyncResult, GroupResult, allow_join_result
from .schedule import pixyz_schedule
from .tasks import pixyz_execute


def subtask_async(pc: ProgramContext, entrypoint: str, params=None, **opts):
    """Starts ``entrypoint`` of the script as a sub-task working in ``pc``'s directory; returns its AsyncResult."""
    return pc.execute(params, entrypoint=entrypoint, **opts)


class PiXYZSession:
    """Upstream's Pixyz SDK session: here a no-op context manager (a script calls the SDK itself, if installed)."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class License:
    """Upstream's licence helper: licences are the Pixyz SDK's business in the script's interpreter."""

    def __init__(self, *args, **kwargs):
        pass


__all__ = [
    "os",
    "datetime",
    "ProgramContext",
    "pixyz_schedule",
    "pixyz_execute",
    "LocalPixyzTask",
    "AsyncResult",
    "GroupResult",
    "allow_join_result",
    "chain",
    "group",
    "chord",
    "chunks",
    "signature",
    "subtask",
    "subtask_async",
    "PiXYZSession",
    "License",
    *(name for name in dir(_exception) if isinstance(getattr(_exception, name), type) and issubclass(getattr(_exception, name), BaseException) and getattr(_exception, name).__module__ == _exception.__name__),
]
