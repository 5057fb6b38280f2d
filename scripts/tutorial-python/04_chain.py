# A chain: each step receives the previous step's result (raw: the value as is).
#
#   params: {"start": 1, "steps": 3}
from celery import chain
from pixyz_worker.script import *
from pixyz_worker.tasks import pixyz_execute


def add_one(pc: ProgramContext, value):
    pc.progress_next(f"{value} + 1")
    return value + 1


@pixyz_schedule(queue="control")
def main(pc: ProgramContext, params: dict):
    step = pc.clone().update(entrypoint="add_one", raw=True)
    first = pixyz_execute.s(params.get("start", 1), pc=step)
    rest = [pixyz_execute.s(pc=step) for _ in range(params.get("steps", 3) - 1)]
    result = chain(first, *rest).apply_async()
    return {"chain": result.id, "value": result.get(propagate=True)}


if __name__ == "__main__":
    LocalPixyzTask.from_commandline(__file__, os.getcwd(), "main")
