"""Loading a job script and calling its entrypoint: shared by the scheduler's runner and local mode."""
from __future__ import annotations

import asyncio
import importlib.abc
import importlib.util
import inspect
import json
import os
import sys
import traceback

from .exception import PixyzNotSerializable, PixyzSdkMissing
from .pc import ProgramContext, to_json_value
from .result import AsyncResult
from .schedule import schedule_options

#: Results travel through Temporal (about 2 MB a payload): keep them well under.
MAX_RESULT_BYTES = 1024 * 1024
#: The module name a job script is loaded under, as upstream (``external``).
MODULE_NAME = "external"
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class ScriptError(Exception):
    """An error about the script itself (not raised by it), with the scheduler's error type."""

    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


class _PixyzSdkAbsent(importlib.abc.MetaPathFinder):
    """Last on sys.meta_path: ``import pxz`` where the Pixyz SDK is not installed says so."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "pxz" or fullname.startswith("pxz."):
            raise PixyzSdkMissing(
                f"The Pixyz SDK (module 'pxz') is not installed in the Python that runs this script ({sys.executable}): "
                "install it there, or point PIXYZ_PYTHON at an interpreter that has it",
                name=fullname,
            )
        return None


def install_sdk_hint() -> None:
    if not any(isinstance(f, _PixyzSdkAbsent) for f in sys.meta_path):
        sys.meta_path.append(_PixyzSdkAbsent())


def load_module(script: str):
    """Loads the script afresh (its top level runs again, as upstream re-imports it each job) as module ``external``."""
    if not os.path.isfile(script):
        raise ScriptError("PixyzFileNotFound", f"the script file '{os.path.basename(script)}' is missing")
    spec = importlib.util.spec_from_file_location(MODULE_NAME, script)
    if spec is None or spec.loader is None:
        raise ScriptError("ScriptFailed", f"'{os.path.basename(script)}' cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module  # dataclasses, pickle and typing look modules up by name
    folder = os.path.dirname(os.path.abspath(script))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec.loader.exec_module(module)
    return module


def find_entrypoint(module, entrypoint: str):
    fn = getattr(module, entrypoint, None)
    if not callable(fn):
        raise ScriptError("ScriptFailed", f"The script file does not have the function {entrypoint} (define it: def {entrypoint}(pc, params))")
    return fn


def call_entrypoint(fn, pc: ProgramContext, params):
    """Calls ``fn(pc, params)`` (a coroutine function runs to its end); with ``@pixyz_schedule(wait=True)``
    an entrypoint that returns sub-tasks gets their result as its own, as upstream."""
    returned = fn(pc, params)
    if inspect.isawaitable(returned):
        returned = asyncio.run(_awaited(returned))
    options = schedule_options(fn) or {}
    if options.get("wait") and isinstance(returned, AsyncResult):
        pc.progress_next(f"Waiting for sub-tasks {returned.id}")
        returned = returned.get(timeout=options.get("timeout"))
    return returned


async def _awaited(awaitable):
    return await awaitable


def checked_result(value):
    """The result as JSON data, refusing what cannot travel or is too large for a Temporal payload."""
    try:
        data = to_json_value(value, "the script result")
    except PixyzNotSerializable as err:
        raise ScriptError("ScriptFailed", str(err)) from None
    size = len(json.dumps(data).encode())
    if size > MAX_RESULT_BYTES:
        raise ScriptError(
            "ResultTooLarge",
            f"the script result is {size} bytes of JSON, over the {MAX_RESULT_BYTES}-byte limit: write large data to a file in pc.get_output_dir() and return its name",
        )
    return data


def script_traceback(err: BaseException) -> str:
    """The traceback without this package's own frames: the script's calls, then the error (and what it was raised from)."""
    tb = traceback.TracebackException.from_exception(err)
    chain = tb
    while chain is not None:
        chain.stack = traceback.StackSummary.from_list([f for f in chain.stack if not f.filename.startswith(_PACKAGE_DIR + os.sep)])
        chain = chain.__cause__ or (None if chain.__suppress_context__ else chain.__context__)
    return "".join(tb.format())
