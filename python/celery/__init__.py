"""A stand-in for Celery's canvas names, so that upstream job scripts run unchanged on Pixyz
Scheduler on Temporal: ``from celery import chain, group, chord`` builds this scheduler's sub-tasks.
There is no broker here; anything else of Celery is not provided."""
from pixyz_worker.canvas import Signature, chain, chord, chunks, group, signature, subtask

__all__ = ["chain", "group", "chord", "chunks", "signature", "subtask", "Signature"]
