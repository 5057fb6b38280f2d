"""Local mode: the same script, the same calls, no scheduler; sub-tasks run in this process.

    python -m pixyz_worker.local script.py [-i input] [-r root-file] [-o output-dir] [-e entrypoint] [-p params-json]

Prints the progress to stderr and the result as JSON to stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import zipfile

from . import execute as ex
from .backend import current_backend, set_backend
from .exception import SubTaskFailed
from .pc import ProgramContext, naive_utc_now

#: Upstream's id of a local run.
LOCAL_JOB_ID = "00000000-0000-0000-0000-000000000000"
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL_EXTENSIONS = (".step", ".stp", ".iges", ".igs", ".brep", ".ifc", ".glb", ".gltf", ".obj", ".fbx", ".dae", ".3ds", ".3mf", ".off", ".stl", ".ply", ".pxz")


def _step_params(own, previous, has_own: bool):
    if not has_own:
        return {} if previous is None else previous
    if previous is None:
        return own
    return {**own, **previous} if isinstance(own, dict) and isinstance(previous, dict) else previous


def _task_value(sig: dict, out: dict):
    if sig.get("raw"):
        return out["result"]
    p = out["progress"]
    return {
        "shadow_name": sig.get("name"),
        "time_info": {"request": out["request"], "started": p["started"], "stopped": p["stopped"]},
        "progress": p["progress"],
        "steps": p["steps"],
        "result": out["result"],
    }


class LocalBackend:
    """Runs each sub-task at once, in this process (upstream's local mode): join returns what it gave."""

    job_id = LOCAL_JOB_ID

    def __init__(self, script: str, output_dir: str, input_file: str | None):
        self.script = script
        self.output_dir = output_dir
        self.input_file = input_file
        self.runs: dict[str, tuple[str, object]] = {}

    def _script_of(self, sig: dict) -> str:
        if sig.get("process"):
            if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,99}", str(sig["process"])):
                raise SubTaskFailed(f"'{sig['process']}' is not a process name", "InvalidInput")
            folder = os.environ.get("PROCESS_PATH") or os.path.join(_REPO, "scripts", "process")
            path = os.path.join(folder, f"{sig['process']}.py")
            if not os.path.isfile(path):
                raise SubTaskFailed(f"no Python process '{sig['process']}' in {folder} (local mode runs Python processes only)", "InvalidInput")
            return path
        return sig.get("script") or self.script

    def _run_task(self, sig: dict, params) -> dict:
        script = self._script_of(sig)
        shared_input = sig.get("shareParent") and sig.get("data") is None
        pc = ProgramContext(
            task_id=LOCAL_JOB_ID,
            script=script,
            entrypoint=sig["entrypoint"],
            params=params,
            is_local=True,
            raw=sig.get("raw", False),
            queue=sig.get("queue"),
            shadow=sig.get("name"),
            compute_only=sig.get("computeOnly", False),
            data=self.input_file if shared_input else sig.get("data"),
            input_file=self.input_file if shared_input else sig.get("data"),
            output_dir=self.output_dir,
        )
        request = naive_utc_now()
        saved = sys.modules.get(ex.MODULE_NAME)
        try:
            fn = ex.find_entrypoint(ex.load_module(script), sig["entrypoint"])
            value = ex.checked_result(ex.call_entrypoint(fn, pc, params))
        except SubTaskFailed:
            raise
        except Exception as err:  # noqa: BLE001 — a sub-task's failure is its joiner's to see
            raise SubTaskFailed(str(err) or type(err).__name__, getattr(err, "error_type", "ScriptFailed"), None) from err
        finally:
            if saved is not None:
                sys.modules[ex.MODULE_NAME] = saved
        pc.progress_stop()
        return {"result": value, "progress": pc["progress"].snapshot(), "request": request}

    def _record(self, id: str, fn):
        try:
            self.runs[id] = ("SUCCESS", fn())
        except SubTaskFailed as err:
            self.runs[id] = ("FAILURE", err)
        return self.runs[id]

    def _canvas(self, c: dict, previous=None, chained: bool = False):
        kind = c["kind"]
        if kind == "task":
            params = _step_params(c.get("params"), previous if chained else None, "params" in c)
            state, out = self._record(c["id"], lambda: self._run_task(c, params))
            if state == "FAILURE":
                raise out
            self.runs[c["id"]] = ("SUCCESS", out["result"])
            return _task_value(c, out)
        if kind == "group":
            return [self._canvas(i, previous, chained) for i in c["items"]]
        if kind == "chain":
            value, has = previous, chained
            for item in c["items"]:
                value, has = self._canvas(item, value, has), True
            return value
        if kind == "chord":
            header = [self._canvas(i, previous, chained) for i in c["header"]]
            return self._canvas(c["body"], header, True)
        raise ValueError(f"unknown canvas kind {kind!r}")

    def spawn(self, canvas: dict) -> dict:
        if canvas["kind"] == "task":
            state, out = self._record(canvas["id"], lambda: self._run_task(canvas, canvas.get("params", {})))
            if state == "SUCCESS":
                self.runs[canvas["id"]] = ("SUCCESS", out["result"])
        else:
            self._record(canvas["id"], lambda: self._canvas(canvas))
        return {"id": canvas["id"], "tasks": []}

    def join(self, id: str, kind: str, timeout_ms):
        state, value = self.runs.get(id, ("PENDING", None))
        if state == "PENDING":
            raise SubTaskFailed(f"no local sub-task {id}", "InvalidInput", id)
        if state == "FAILURE":
            raise value
        return value

    def status(self, id: str) -> str:
        return self.runs.get(id, ("PENDING", None))[0]


def from_local(script: str, input_path: str | None = None, output_dir: str | None = None) -> ProgramContext:
    """A context for running ``script`` on this machine: outputs in ``output_dir`` (default: here), sub-tasks in this process."""
    script = os.path.abspath(script)
    source = os.path.abspath(input_path) if input_path else None
    out = os.path.abspath(output_dir or os.getcwd())
    os.makedirs(out, exist_ok=True)
    if current_backend() is None:
        set_backend(LocalBackend(script, out, source))
    return ProgramContext(
        task_id=LOCAL_JOB_ID,
        script=script,
        data=source,
        input_file=source,
        input_dir=os.path.dirname(source) if source else None,
        output_dir=out,
        is_local=True,
    )


class LocalPixyzTask:
    """Upstream's LocalPixyzTask: run one entrypoint of a script here and now."""

    @staticmethod
    def from_commandline(script: str, output_path: str, entrypoint: str = "main", params=None, input_file: str | None = None, on_progress=None):
        ex.install_sdk_hint()
        params = {} if params is None else params
        pc = from_local(script, input_file, output_path).update(entrypoint=entrypoint, params=params)
        if on_progress is not None:
            pc["progress"]._on_change = lambda: on_progress(pc)
        fn = ex.find_entrypoint(ex.load_module(pc["script"]), entrypoint)
        result = ex.call_entrypoint(fn, pc, params)
        pc.progress_stop()
        return result


def _local_input(source: str | None, root_file: str | None, scratch: str) -> str | None:
    if source is None:
        return None
    lower = source.lower()
    if not (lower.endswith(".zip") or lower.endswith(".tar.gz") or lower.endswith(".tgz") or lower.endswith(".tar")):
        if root_file:
            raise SystemExit("--root-file applies to a .zip or .tar.gz input")
        return source
    dest = os.path.join(scratch, "extracted")
    os.makedirs(dest)
    if lower.endswith(".zip"):
        with zipfile.ZipFile(source) as z:
            for name in z.namelist():
                target = os.path.abspath(os.path.join(dest, name))
                if not target.startswith(dest + os.sep):
                    raise SystemExit(f"{source}: the entry '{name}' would land outside the folder it is unpacked into")
            z.extractall(dest)
    else:
        with tarfile.open(source) as t:
            t.extractall(dest, filter="data")
    if root_file:
        target = os.path.abspath(os.path.join(dest, root_file))
        if not target.startswith(dest + os.sep) or not os.path.isfile(target):
            raise SystemExit(f"the root file '{root_file}' is not in {os.path.basename(source)}")
        return target
    for folder, _dirs, files in sorted(os.walk(dest)):
        for f in sorted(files):
            if f.lower().endswith(MODEL_EXTENSIONS):
                return os.path.join(folder, f)
    raise SystemExit(f"no model file in {os.path.basename(source)}: name one with --root-file")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pixyz_worker.local",
        description="Runs <script>'s entrypoint (default main) here, with its sub-tasks in this process. "
        "Prints the progress to stderr and the result as JSON to stdout.",
    )
    parser.add_argument("script")
    parser.add_argument("-i", "--input", default=None, help="the model (or a .zip / .tar.gz of one)")
    parser.add_argument("-r", "--root-file", default=None, help="the file to load inside an archive")
    parser.add_argument("-o", "--output", default=None, help="where outputs go (default: here)")
    parser.add_argument("-e", "--entrypoint", default="main")
    parser.add_argument("-p", "--params", default="{}", help="the params, as JSON")
    args = parser.parse_args(argv)
    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as err:
        print(f"--params is not JSON: {err}", file=sys.stderr)
        return 2
    if not os.path.isfile(args.script):
        print(f"no script {args.script}", file=sys.stderr)
        return 2
    scratch = tempfile.mkdtemp(prefix="pixyz-local-")
    shown = [0]

    def progress(pc):
        snap = pc["progress"].snapshot()
        for step in snap["steps"][shown[0] :]:
            print(f"[{snap['progress']:>3}%] {step['info']}", file=sys.stderr)
        shown[0] = len(snap["steps"])

    try:
        source = _local_input(args.input, args.root_file, scratch)
        started = time.perf_counter()
        result = LocalPixyzTask.from_commandline(args.script, args.output or os.getcwd(), args.entrypoint, params, source, progress)
        data = ex.checked_result(result)
        print(json.dumps(data))
        print(f"done in {time.perf_counter() - started:.2f} s", file=sys.stderr)
        return 0
    except ex.ScriptError as err:
        print(str(err), file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 — the script's own failure: its traceback, as the job's details show it
        print(ex.script_traceback(err), file=sys.stderr, end="")
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
