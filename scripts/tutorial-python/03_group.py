# Nested groups of sleeping sub-tasks, joined: [[0.1, 0.2], [0.3, 0.4]] sleeps in parallel.
#
#   params: {"times": [0.1, 0.2, 0.3, 0.4]}
import time

from celery import group
from pixyz_worker.script import *
from pixyz_worker.tasks import pixyz_execute


def sleep(pc: ProgramContext, params: dict):
    time.sleep(params["time"])
    return params["time"]


@pixyz_schedule(queue="control", wait=True)
def main(pc: ProgramContext, params: dict):
    times = params.get("times", [0.1, 0.2, 0.3, 0.4])
    step = pc.clone().update(entrypoint="sleep")
    pairs = [times[i : i + 2] for i in range(0, len(times), 2)]
    # wait=True: the entrypoint returns the group's result, once every sub-task is over.
    return group(group(pixyz_execute.s({"time": t}, pc=step) for t in pair) for pair in pairs).apply_async()


if __name__ == "__main__":
    LocalPixyzTask.from_commandline(__file__, os.getcwd(), "main")
