"""Celery's result names, answered by Pixyz Scheduler on Temporal."""
from pixyz_worker.result import AsyncResult, GroupResult, allow_join_result

__all__ = ["AsyncResult", "GroupResult", "allow_join_result"]
