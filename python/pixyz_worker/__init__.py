"""Pixyz Scheduler on Temporal: the Python side of job scripts.

Upstream Pixyz Scheduler scripts import ``pixyz_worker.script`` (and ``pixyz_worker.tasks``,
``celery``, ``celery.result``); here those names run through this scheduler's workflows, never
through a Celery broker. See the README's "Python scripts" section.
"""

__version__ = "0.1.0"
