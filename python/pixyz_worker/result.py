"""Celery's result objects, answered by this scheduler: AsyncResult, GroupResult, allow_join_result."""
from __future__ import annotations

import contextlib

from .backend import backend
from .exception import SubTaskFailed

FINISHED = ("SUCCESS", "FAILURE", "REVOKED")


class AsyncResult:
    """A sub-task (or a chain or chord of them) that was started: ``get()`` waits for its value."""

    def __init__(self, id: str, backend=None, task_name=None, app=None, parent: "AsyncResult | None" = None, kind: str = "task", canvas_id: str | None = None):
        self.id = id
        self.parent = parent
        self.kind = kind
        #: The workflow to join: the task's own, or the canvas's (a chain's last task joins through its canvas).
        self._join_id = canvas_id or id
        self._join_kind = "canvas" if canvas_id else kind
        self._via = backend
        self._value = None
        self._done = False
        self.children: list[AsyncResult] = []

    @property
    def task_id(self) -> str:
        return self.id

    def _backend(self):
        return self._via or backend()

    def get(self, timeout=None, propagate=True, interval=0.5, no_ack=True, follow_parents=True, callback=None, on_message=None, on_interval=None, disable_sync_subtasks=True, **_):
        """Waits for the result (at most ``timeout`` seconds) and returns it; a failure raises (or is returned with ``propagate=False``)."""
        if not self._done:
            timeout_ms = None if timeout is None else max(0, int(float(timeout) * 1000))
            try:
                self._value = self._backend().join(self._join_id, self._join_kind, timeout_ms)
            except SubTaskFailed as err:
                if on_message is not None:
                    on_message({"status": "FAILURE", "result": str(err), "task_id": self.id})
                if propagate:
                    raise
                return err
            self._done = True
            if on_message is not None:
                on_message({"status": "SUCCESS", "result": self._value, "task_id": self.id})
        if callback is not None:
            callback(self.id, self._value)
        return self._value

    wait = get

    @property
    def state(self) -> str:
        return self._backend().status(self._join_id)

    status = state

    @property
    def result(self):
        return self._value if self._done else None

    def ready(self) -> bool:
        return self.state in FINISHED

    def successful(self) -> bool:
        return self.state == "SUCCESS"

    def failed(self) -> bool:
        return self.state == "FAILURE"

    def forget(self) -> None:
        pass

    def as_tuple(self):
        """Celery's ``((id, parent), None)``: what upstream scripts return to name their sub-tasks."""
        return ((self.id, self.parent.as_tuple() if self.parent else None), None)

    def as_list(self) -> list["AsyncResult"]:
        return [self]

    def __repr__(self) -> str:
        return f"<AsyncResult: {self.id}>"

    def __str__(self) -> str:
        return self.id

    def __json__(self):
        return {"id": self.id}


class GroupResult(AsyncResult):
    """A group's results: ``get()`` returns the list of its members' values."""

    def __init__(self, id: str, results: list[AsyncResult] | None = None, parent=None, backend=None):
        super().__init__(id, backend=backend, parent=parent, kind="canvas", canvas_id=id)
        self.results = results or []
        self.children = self.results

    def as_tuple(self):
        return ((self.id, self.parent.as_tuple() if self.parent else None), [r.as_tuple() for r in self.results])

    def as_list(self) -> list[AsyncResult]:
        return [r for member in self.results for r in member.as_list()]

    def completed_count(self) -> int:
        return sum(1 for r in self.results if r.successful())

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self):
        return iter(self.results)

    def __repr__(self) -> str:
        return f"<GroupResult: {self.id} [{', '.join(r.id for r in self.results)}]>"


@contextlib.contextmanager
def allow_join_result():
    """Celery's guard against joins inside a task: joining never blocks a worker here, so it only yields."""
    yield
