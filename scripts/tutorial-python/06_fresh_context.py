# A sub-task with a fresh context: a job of its own with its own directory (its outputs are its
# own, not the parent's), next to a clone that writes into the parent's outputs.
import os

from pixyz_worker.script import *


def write(pc: ProgramContext, params: dict):
    with open(pc.get_output_dir(params["file"]), "w") as f:
        f.write(params["text"])
    return {"file": params["file"], "own_directory": pc.get_output_dir() != params["parent_outputs"]}


@pixyz_schedule(queue="control")
def main(pc: ProgramContext, params: dict):
    outputs = pc.get_output_dir()
    fresh = ProgramContext(script=pc["script"], entrypoint="write", raw=True)
    clone = pc.clone().update(entrypoint="write", raw=True)
    a = fresh.execute({"file": "fresh.txt", "text": "from a fresh context", "parent_outputs": outputs})
    b = clone.execute({"file": "clone.txt", "text": "from a clone", "parent_outputs": outputs})
    with pc.allow_join_result():
        return {"fresh": a.get(), "fresh_id": a.id, "clone": b.get(), "here": sorted(os.listdir(outputs))}


if __name__ == "__main__":
    LocalPixyzTask.from_commandline(__file__, os.getcwd(), "main")
