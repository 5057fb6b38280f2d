# A pseudo-distributed checksum: main splits the input into 4 parts in its outputs, then runs a
# chord of 4 `subtask` jobs (each a fresh context: its own job directory, one part its input) and
# `merge_result` on the list of their results. `main` waits for the chord (a synchronous join);
# `main_async` returns its id at once and ends, while the chord runs on (`pixyz status -j <id>`
# follows it; as Celery's, a chord's id is its merge step's).
#
#   params: {"sleep": 1}   seconds each step pretends to work
#   entrypoints: main (joined), main_async (-e main_async, or config {"entrypoint": "main_async"})
import time
import zlib

from celery import chord
from celery.result import allow_join_result
from pixyz_worker.script import *
from pixyz_worker.tasks import pixyz_execute

PARTS = 4


def subtask(pc: ProgramContext, params: dict):
    time.sleep(params.get("sleep", 1))
    with open(pc.get_input_file(), "rb") as f:
        crc = zlib.crc32(f.read())
    print(f"crc32 of {pc.get_input_file()} is {crc}")
    return {"crc": crc}


def merge_result(pc: ProgramContext, results: list):
    pc.progress_next(f"Merging {len(results)} results")
    return {"crc32": sum(r["result"]["crc"] for r in results)}


def checksum_chord(pc: ProgramContext, params: dict):
    pc.progress_set_total(1 + PARTS)
    pc.progress_next("splitting file")
    with open(pc.get_input_file(), "rb") as f:
        data = f.read()
    parts = []
    for i in range(PARTS):
        part = pc.get_output_dir(f"crc_part{i}")
        with open(part, "wb") as f:
            f.write(data[i * len(data) // PARTS : (i + 1) * len(data) // PARTS])
        parts.append(part)
    pc.progress_next("chord")
    return chord(
        [pixyz_execute.s({"sleep": params.get("sleep", 1)}, pc=ProgramContext(script=pc["script"], data=part, entrypoint="subtask")) for part in parts],
        pixyz_execute.s(pc=ProgramContext(script=pc["script"], entrypoint="merge_result", raw=True)),
    )


@pixyz_schedule(queue="control")
def main(pc: ProgramContext, params: dict):
    result = checksum_chord(pc, params).apply_async()
    with allow_join_result():
        return result.get()


@pixyz_schedule()
def main_async(pc: ProgramContext, params: dict):
    return {"chord": checksum_chord(pc, params).apply_async().id}


if __name__ == "__main__":
    LocalPixyzTask.from_commandline(__file__, os.getcwd(), "main")
