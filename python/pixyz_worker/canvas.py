"""Celery's canvas (signature, group, chain, chord) as this scheduler runs it: a canvas is sent to
the job's workflow as data, and its tasks run as child workflows."""
from __future__ import annotations

import uuid

from .backend import backend, current_backend
from .result import AsyncResult, GroupResult

#: pixyz_execute's own queue upstream: a signature without one runs there.
DEFAULT_QUEUE = "gpu"


class Signature:
    """One sub-task: run ``pc``'s entrypoint with ``params`` (upstream's ``pixyz_execute.s(params, pc)``).

    Without params (``pixyz_execute.s(pc=…)``), a chain step receives the previous step's result.
    """

    def __init__(self, params=None, pc=None, options: dict | None = None, has_params: bool = True):
        self.params = params
        self.pc = pc
        self.options = dict(options or {})
        self.has_params = has_params and params is not None

    def set(self, **options) -> "Signature":
        self.options.update(options)
        return self

    def clone(self, args=None, kwargs=None, **options) -> "Signature":
        return Signature(self.params, self.pc, {**self.options, **options}, self.has_params)

    def apply_async(self, args=None, kwargs=None, **options) -> AsyncResult:
        sig = self.clone(**{k: v for k, v in options.items() if k in ("queue", "time_limit", "name", "process")})
        if args:
            sig.params, sig.has_params = args[0], True
            if len(args) > 1:
                sig.pc = args[1]
        if kwargs and "pc" in kwargs:
            sig.pc = kwargs["pc"]
        return start(sig)

    def delay(self, *args, **kwargs) -> AsyncResult:
        return self.apply_async(args, kwargs)

    # Calling a signature starts it (Celery would run a single task inline in the caller).
    def __call__(self, *args, **kwargs) -> AsyncResult:
        return self.apply_async(args or None, kwargs or None)

    def __or__(self, other):
        return chain(self, other)

    def to_canvas(self) -> dict:
        from .pc import ProgramContext

        pc = self.pc if self.pc is not None else ProgramContext()
        get = pc.get if isinstance(pc, dict) else (lambda k, d=None: d)
        job = current_backend()
        task_id = get("task_id")
        out = {
            "kind": "task",
            "id": str(uuid.uuid4()),
            "entrypoint": self.options.get("entrypoint") or get("entrypoint") or "main",
            "queue": self.options.get("queue") or DEFAULT_QUEUE,
            "timeLimitSeconds": _number(self.options.get("time_limit")),
            "raw": bool(get("raw", False)),
            "shareParent": task_id is not None and job is not None and task_id == job.job_id,
            "data": _path(get("data")),
            "rootFile": get("root_file"),
            "computeOnly": bool(self.options.get("compute_only", get("compute_only", False))),
            "name": self.options.get("name"),
        }
        if self.has_params:
            out["params"] = _jsonable(self.params)
        # Another script's entrypoint: a predefined process (Python or TypeScript), by name.
        process = self.options.get("process") or get("process")
        if process:
            out["process"] = str(process)
            if not self.options.get("queue"):
                out["queueDefaulted"] = True  # the process's own queue, when it states one
        return out

    def result_of(self, canvas: dict, top: str | None) -> AsyncResult:
        return AsyncResult(canvas["id"], canvas_id=top)

    def __repr__(self) -> str:
        return f"pixyz_execute.s({self.params!r}, pc=…)"


def _number(v):
    return None if v is None else float(v)


def _path(v):
    return None if v is None else str(v)


def _jsonable(v):
    from .pc import to_json_value

    return to_json_value(v, "sub-task params")


class _Canvas:
    kind = ""

    def apply_async(self, args=None, kwargs=None, **options):
        return start(self)

    def delay(self, *args, **kwargs):
        return self.apply_async()

    def __call__(self, *args, **kwargs):
        return self.apply_async()

    def __or__(self, other):
        return chain(self, other)


def _steps(tasks) -> list:
    if len(tasks) == 1 and not isinstance(tasks[0], (Signature, _Canvas, str, dict)) and hasattr(tasks[0], "__iter__"):
        tasks = tuple(tasks[0])  # group([…]) or group(a generator), as Celery takes them
    out = []
    for t in tasks:
        if isinstance(t, (list, tuple)):
            out.extend(_steps(tuple(t)))
        elif isinstance(t, (Signature, _Canvas)):
            out.append(t)
        else:
            raise TypeError(f"a canvas step must be a signature (pixyz_execute.s(params, pc)) or a group, chain or chord, not {type(t).__name__}")
    return out


class _Sequence(_Canvas):
    """A group or a chain: steps given as arguments, a list, or a generator."""

    def __init__(self, *tasks, **options):
        self.tasks = _steps(tasks)

    def to_canvas(self) -> dict:
        return {"kind": self.kind, "id": str(uuid.uuid4()), "items": [t.to_canvas() for t in self.tasks]}


class group(_Sequence):
    """Runs its steps in parallel; ``get()`` returns the list of their results."""

    kind = "group"

    def result_of(self, canvas: dict, top: str | None) -> AsyncResult:
        members = [t.result_of(c, None) for t, c in zip(self.tasks, canvas["items"])]
        return GroupResult(canvas["id"], members) if top else _NestedGroup(canvas["id"], members)


class chain(_Sequence):
    """Runs its steps one after the other; each gets the previous step's result as params."""

    kind = "chain"

    def result_of(self, canvas: dict, top: str | None) -> AsyncResult:
        # Celery's shape: the last step's result, whose parent is the step before, and so on.
        parent = None
        last = None
        for t, c in zip(self.tasks, canvas["items"]):
            last = t.result_of(c, None)
            last.parent = parent
            parent = last
        if top and last is not None:
            last._join_id, last._join_kind = top, "canvas"
        return last


class chord(_Canvas):
    """Runs ``header`` as a group, then ``body`` with the list of their results: ``chord(header)(body)``."""

    kind = "chord"

    def __init__(self, header, body=None, **options):
        self.header = _steps((header,)) if not isinstance(header, group) else header.tasks
        self.body = body

    def __call__(self, body=None, **kwargs):
        if body is not None:
            self.body = body
        return self.apply_async()

    def to_canvas(self) -> dict:
        if self.body is None:
            raise TypeError("a chord needs a body: chord(header)(body) or chord(header, body)")
        return {"kind": "chord", "id": str(uuid.uuid4()), "header": [t.to_canvas() for t in self.header], "body": self.body.to_canvas()}

    def result_of(self, canvas: dict, top: str | None) -> AsyncResult:
        head = _NestedGroup(canvas["id"], [t.result_of(c, None) for t, c in zip(self.header, canvas["header"])])
        body = self.body.result_of(canvas["body"], None)
        body.parent = head
        if top:
            body._join_id, body._join_kind = top, "canvas"
        return body


class _NestedGroup(GroupResult):
    """A group inside a canvas: not a workflow of its own, so it is joined member by member."""

    def get(self, timeout=None, propagate=True, **kwargs):
        return [r.get(timeout=timeout, propagate=propagate, **kwargs) for r in self.results]

    @property
    def state(self) -> str:
        states = [r.state for r in self.results]
        for s in ("FAILURE", "REVOKED", "RUNNING", "STARTED", "PENDING"):
            if s in states:
                return s
        return "SUCCESS"


def chunks(*args, **kwargs):
    raise NotImplementedError("celery's chunks is not supported by this scheduler: use a group of pixyz_execute.s(...) signatures")


def start(step) -> AsyncResult:
    """Sends a signature or canvas to the scheduler; returns its result object at once."""
    canvas = step.to_canvas()
    backend().spawn(canvas)
    return step.result_of(canvas, canvas["id"] if canvas["kind"] != "task" else None)


def signature(varies, *args, **kwargs):
    """Celery's ``signature(task, args=…, kwargs=…)`` for pixyz_execute; a Signature passes through."""
    if isinstance(varies, (Signature, _Canvas)):
        return varies
    a = kwargs.get("args") or args
    kw = kwargs.get("kwargs") or {}
    params = a[0] if a else kw.get("params")
    pc = a[1] if len(a) > 1 else kw.get("pc")
    return Signature(params, pc, {k: v for k, v in kwargs.items() if k in ("queue", "time_limit")}, has_params=bool(a) or "params" in kw)


subtask = signature
