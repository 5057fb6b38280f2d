"""Upstream's Celery task ``pixyz_execute(params, pc)``, as signatures this scheduler runs."""
from __future__ import annotations

from .canvas import DEFAULT_QUEUE, Signature, start


class _PixyzExecute:
    """``pixyz_execute.s(params, pc=…)``, ``.signature(…)``, ``.apply_async(args=[params, pc], queue=…)``, ``.delay(params, pc)``."""

    name = "pixyz_worker.tasks.pixyz_execute"
    queue = DEFAULT_QUEUE

    def s(self, *args, **kwargs) -> Signature:
        params = args[0] if args else kwargs.pop("params", None)
        pc = args[1] if len(args) > 1 else kwargs.pop("pc", None)
        has = bool(args) or params is not None
        return Signature(params, pc, {k: v for k, v in kwargs.items() if k in ("queue", "time_limit", "name", "process")}, has_params=has)

    signature = s
    subtask = s

    def apply_async(self, args=None, kwargs=None, **options):
        args = list(args or [])
        kwargs = dict(kwargs or {})
        sig = self.s(*args, **kwargs)
        sig.set(**{k: v for k, v in options.items() if k in ("queue", "time_limit", "name", "process")})
        return start(sig)

    def delay(self, *args, **kwargs):
        return self.apply_async(args, kwargs)

    def __call__(self, params=None, pc=None):
        raise RuntimeError("pixyz_execute runs as a sub-task: use pixyz_execute.s(params, pc).apply_async() or pc.execute(params)")


pixyz_execute = _PixyzExecute()
