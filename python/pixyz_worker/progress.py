"""Upstream's TaskProgress: a total, steps with their durations, a percentage.

The snapshot has the TypeScript SDK's shape (the worker reads both the same way).
"""
from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from typing import Callable

MAX_KEPT_STEPS = 1000
MAX_STEP_INFO = 500


def iso_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TaskProgress:
    def __init__(self, on_change: Callable[[], None] | None = None):
        self._on_change = on_change or (lambda: None)
        self.total = 1
        self.steps: list[dict] = []
        self.count = 0
        self._step_started = 0.0
        self.started = iso_now()
        self.stopped: str | None = None
        self.extra: dict = {}

    def start(self) -> None:
        self.started = iso_now()
        self.stopped = None
        self._on_change()

    def set_total(self, total) -> None:
        try:
            n = int(total)
        except (TypeError, ValueError):
            n = 1
        self.total = n if n > 0 else 1
        self._on_change()

    def next(self, info: str | None = None, output=None, **extra) -> None:
        self._close_step()
        self.count += 1
        text = str(info) if info is not None else f"step {self.count}"
        if len(text) > MAX_STEP_INFO:
            text = text[: MAX_STEP_INFO - 1] + "…"
        self.steps.append({"info": text, "duration": -1})
        if len(self.steps) > MAX_KEPT_STEPS:
            self.steps.pop(0)
        self._step_started = time.perf_counter()
        self._on_change()

    def stop(self) -> None:
        self._close_step()
        self.stopped = iso_now()
        self._on_change()

    def snapshot(self) -> dict:
        done = self.stopped is not None
        percent = 100 if done else min(99, math.floor(max(0, self.count - 1) / self.total * 100))
        return {
            "total": self.total,
            "current": self.count,
            "progress": percent,
            "steps": [dict(s) for s in self.steps],
            "started": self.started,
            "stopped": self.stopped,
        }

    def _close_step(self) -> None:
        if self.steps and self.steps[-1]["duration"] < 0:
            self.steps[-1]["duration"] = time.perf_counter() - self._step_started
