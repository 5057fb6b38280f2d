"""Upstream's ProgramContext: a JSON-serializable dict handed to every entrypoint as ``(pc, params)``."""
from __future__ import annotations

import copy
import json
import math
import os
from datetime import date, datetime, timezone

from .exception import PixyzNotSerializable, PixyzSecurityViolation, PixyzSharedDirectoryNotFound
from .progress import TaskProgress

DEFAULTS = {"compute_only": False, "data": None, "tmp": True, "root_file": None, "is_local": False, "entrypoint": "main", "raw": False}


def naive_utc_now() -> str:
    """Upstream's request time: naive UTC ISO (``datetime.utcnow().isoformat()``)."""
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat()


def to_json_value(value, what: str, where: str = "value"):
    """The value as plain JSON data (tuples as lists, datetimes as ISO text); refuses what JSON cannot carry, naming it."""
    from .result import AsyncResult

    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PixyzNotSerializable(f"{what}: {where} is {value}, which JSON cannot carry")
        return value
    if isinstance(value, datetime):
        return (value if value.tzinfo is None else value.astimezone(timezone.utc).replace(tzinfo=None)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, AsyncResult):
        return {"id": value.id}
    if isinstance(value, ProgramContext):
        return {k: to_json_value(v, what, f"{where}.{k}") for k, v in dict.items(value)}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise PixyzNotSerializable(f"{what}: {where} has a key of type {type(k).__name__}, which JSON cannot carry")
            out[str(k) if not isinstance(k, str) else k] = to_json_value(v, what, f"{where}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [to_json_value(v, what, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise PixyzNotSerializable(f"{what}: {where} is a {type(value).__name__}, which JSON cannot carry")


class ProgramContext(dict):
    """The job's context: where its files are, its progress, and its sub-tasks. Reads like a dict (``pc['script']``)."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        dict.update(self, DEFAULTS)
        dict.__setitem__(self, "time_request", naive_utc_now())
        given = dict(*args, **kwargs)
        progress = given.pop("progress", None)
        for k, v in given.items():
            dict.__setitem__(self, k, to_json_value(v, "ProgramContext", k))
        self._progress = progress if isinstance(progress, TaskProgress) else TaskProgress()

    # --- as a dict ----------------------------------------------------------------------------
    def __getitem__(self, key):
        if key == "progress":
            return self._progress
        return dict.__getitem__(self, key)

    def __contains__(self, key) -> bool:
        return key == "progress" or dict.__contains__(self, key)

    def get(self, key, default=None):
        if key == "progress":
            return self._progress
        return dict.get(self, key, default)

    def __setitem__(self, key, value) -> None:
        if key == "progress":
            self._progress = value
            return
        dict.__setitem__(self, key, to_json_value(value, "ProgramContext", key))

    def update(self, *args, **kwargs) -> "ProgramContext":
        """Merges the changes into this context (a dict value merges into the one it replaces) and returns it."""
        for k, v in dict(*args, **kwargs).items():
            current = dict.get(self, k)
            if isinstance(current, dict) and isinstance(v, dict):
                current.update(to_json_value(v, "ProgramContext.update", k))
            else:
                self[k] = v
        return self

    def clone(self, **kwargs) -> "ProgramContext":
        """A new context with this one's keys, a new request time, and ``kwargs`` applied."""
        keys = {k: copy.deepcopy(v) for k, v in dict.items(self) if k != "task"}
        keys["time_request"] = naive_utc_now()
        keys.update(kwargs)
        return ProgramContext(keys)

    def __deepcopy__(self, memo):
        return ProgramContext(copy.deepcopy(dict(self), memo))

    def to_json(self) -> str:
        return json.dumps(to_json_value(self, "ProgramContext"))

    # --- progress -----------------------------------------------------------------------------
    def progress_start(self) -> None:
        self._progress.start()

    def progress_set_total(self, n) -> None:
        self._progress.set_total(n)

    def progress_next(self, info=None, output=None, **extra) -> None:
        self._progress.next(info, output, **extra)

    def progress_stop(self) -> None:
        self._progress.stop()

    def progress_output(self, ret):
        """Upstream's wrapping of a return value: as is when ``raw``, else ``{"result": ret}``."""
        return ret if self.get("raw") else {"result": ret}

    # --- directories --------------------------------------------------------------------------
    def get_input_dir(self, filename: str | None = None) -> str:
        return _inside(self.get("input_dir"), "input", filename, self.is_compute_only())

    def get_output_dir(self, filename: str | None = None) -> str:
        return _inside(self.get("output_dir"), "output", filename, self.is_compute_only())

    def get_input_file(self) -> str | None:
        return self.get("input_file")

    def is_compute_only(self) -> bool:
        return bool(self.get("compute_only"))

    def is_local(self) -> bool:
        return bool(self.get("is_local"))

    # --- sub-tasks ----------------------------------------------------------------------------
    def execute(self, params=None, **opts):
        """Starts a sub-task running this context's entrypoint with ``params``; returns its AsyncResult at once."""
        from .canvas import Signature, start

        return start(Signature({} if params is None else params, self.clone(), opts))

    def AsyncResult(self, id: str):
        from .result import AsyncResult

        return AsyncResult(id)

    def allow_join_result(self):
        from .result import allow_join_result

        return allow_join_result()

    @staticmethod
    def from_local(script: str, input_path: str | None = None, output_dir: str | None = None) -> "ProgramContext":
        from .local import from_local

        return from_local(script, input_path, output_dir)


def _inside(directory, kind: str, filename, compute_only: bool) -> str:
    if not directory:
        raise PixyzSharedDirectoryNotFound(f"a compute-only job has no {kind} directory" if compute_only else f"this job has no {kind} directory")
    if filename is None:
        return directory
    target = os.path.abspath(os.path.join(directory, filename))
    if target != directory and not target.startswith(directory.rstrip(os.sep) + os.sep):
        raise PixyzSecurityViolation(f"'{filename}' is outside the job's {kind} directory")
    return target
