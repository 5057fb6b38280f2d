# Progress steps the API, the CLI and the dashboard show while the job runs, and files written
# to the job's outputs (downloaded as one zip).
#
#   params: {"steps": 3, "step_seconds": 1}
import json
import os
import shutil
import time

from pixyz_worker.script import *


@pixyz_schedule(time_limit=600)
def main(pc: ProgramContext, params: dict):
    steps = int(params.get("steps", 3))
    pause = float(params.get("step_seconds", 1))
    pc.progress_set_total(steps)
    for i in range(steps):
        pc.progress_next(f"Sleeping for {pause} seconds (step {i + 1}/{steps})")
        time.sleep(pause)
    source = pc.get_input_file()
    report = {"steps": steps, "input": None}
    if source:
        report["input"] = {"name": os.path.basename(source), "bytes": os.path.getsize(source)}
        shutil.copy(source, pc.get_output_dir(os.path.basename(source)))
    with open(pc.get_output_dir("report.json"), "w") as f:
        json.dump(report, f)
    return report


if __name__ == "__main__":
    LocalPixyzTask.from_commandline(__file__, os.getcwd(), "main")
