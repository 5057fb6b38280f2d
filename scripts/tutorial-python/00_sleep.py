# The smallest job: sleep a moment. Run it here with `python 00_sleep.py` (or
# `npx pixyz-local 00_sleep.py`), or submit it: `npx pixyz exec 00_sleep.py -w`.
import time

from pixyz_worker.script import *


@pixyz_schedule()
def main(pc: ProgramContext, params: dict):
    seconds = params.get("time", 0.1)
    print(f"sleep {seconds} sec")
    time.sleep(seconds)


if __name__ == "__main__":
    LocalPixyzTask.from_commandline(__file__, os.getcwd(), "main")
