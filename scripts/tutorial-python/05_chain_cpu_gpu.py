# A chain across queues: load on `cpu`, then process on `gpu` (workers serving each queue take
# their step), with the `|` operator. Each step says where it ran.
from pixyz_worker.script import *
from pixyz_worker.tasks import pixyz_execute


def load(pc: ProgramContext, params: dict):
    return {"model": params.get("model", "part.stp"), "ran_on": [pc["queue"]]}


def process(pc: ProgramContext, previous: dict):
    return {**previous, "ran_on": previous["ran_on"] + [pc["queue"]]}


@pixyz_schedule(queue="control", wait=True)
def main(pc: ProgramContext, params: dict):
    cpu = pixyz_execute.s(params, pc=pc.clone().update(entrypoint="load", raw=True)).set(queue="cpu")
    gpu = pixyz_execute.s(pc=pc.clone().update(entrypoint="process", raw=True)).set(queue="gpu")
    return (cpu | gpu).apply_async()


if __name__ == "__main__":
    LocalPixyzTask.from_commandline(__file__, os.getcwd(), "main")
