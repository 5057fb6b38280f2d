"""Where sub-tasks go: to the scheduler (the runner's IPC backend) or run in-process (local mode)."""
from __future__ import annotations

from typing import Protocol


class Backend(Protocol):
    #: The job whose directory ``pc.clone()`` sub-tasks share; None when none.
    job_id: str | None
    #: The job's own script: a sub-task names another only as a predefined process.
    script: str | None

    def spawn(self, canvas: dict) -> dict: ...

    def join(self, id: str, kind: str, timeout_ms: int | None): ...

    def status(self, id: str) -> str: ...


_current: Backend | None = None


def set_backend(backend: Backend | None) -> None:
    global _current
    _current = backend


def current_backend() -> Backend | None:
    return _current


def backend() -> Backend:
    if _current is None:
        raise RuntimeError(
            "sub-tasks need the scheduler or local mode: run the script through the API, or locally with "
            "python -m pixyz_worker.local / LocalPixyzTask.from_commandline / ProgramContext.from_local"
        )
    return _current
