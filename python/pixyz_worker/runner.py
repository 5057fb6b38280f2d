"""The Python script process: started ahead of its jobs by the worker's pool, it serves one ``run``
message after another over Node's IPC channel (newline-delimited JSON on NODE_CHANNEL_FD), speaking
the same protocol as the TypeScript runner: loads the job script afresh, calls its entrypoint with
``(pc, params)``, reports progress, then the result or the error, and puts back what the job changed
before the next one. When the channel closes (the worker is gone), it kills its process group.

    python -m pixyz_worker.runner     (only through the runScript activity)
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import queue
import resource
import signal
import sys
import threading
import time

from . import execute as ex
from .backend import set_backend
from .exception import SubTaskFailed
from .pc import ProgramContext

PROGRESS_BURST = 10
PROGRESS_EVERY_S = 0.1

_fd = -1
_send_lock = threading.Lock()
_jobs: "queue.Queue[dict]" = queue.Queue()
_request_ids = itertools.count(1)
_current: "RemoteBackend | None" = None


def send(message: dict) -> None:
    data = (json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n").encode()
    with _send_lock:
        view = memoryview(data)
        while view:
            try:
                n = os.write(_fd, view)
            except OSError:
                return  # the channel is gone: the reader kills this process
            view = view[n:]


class RemoteBackend:
    """Sub-tasks through the worker: each call is a request the activity answers. One per job."""

    def __init__(self, job_id: str, script: str):
        self.job_id = job_id
        self.script = script
        self._waiting: dict[int, list] = {}
        self._lock = threading.Lock()
        self._closed = False

    def settle(self, message: dict) -> None:
        with self._lock:
            waiter = self._waiting.pop(message.get("requestId"), None)
        if waiter is None:
            return
        waiter[1] = message
        waiter[0].set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            waiting = list(self._waiting.values())
            self._waiting.clear()
        for w in waiting:
            w[1] = {"ok": False, "error": {"type": "Cancelled", "message": f"job {self.job_id} is over"}}
            w[0].set()

    def _request(self, req: dict):
        request_id = next(_request_ids)
        waiter = [threading.Event(), None]
        with self._lock:
            if self._closed:
                raise RuntimeError(f"job {self.job_id} is over: its sub-tasks can no longer be started or joined")
            self._waiting[request_id] = waiter
        send({"type": "request", "requestId": request_id, **req})
        waiter[0].wait()
        reply = waiter[1]
        if reply.get("ok"):
            return reply.get("value")
        error = reply.get("error") or {}
        raise SubTaskFailed(error.get("message", "the sub-task failed"), error.get("type", "ScriptFailed"), error.get("childId"))

    def spawn(self, canvas: dict) -> dict:
        return self._request({"op": "spawn", "canvas": canvas})

    def join(self, id: str, kind: str, timeout_ms):
        return self._request({"op": "join", "id": id, "kind": kind, "timeoutMs": timeout_ms})

    def status(self, id: str) -> str:
        return self._request({"op": "status", "id": id})


def _read_loop() -> None:
    buf = b""
    while True:
        try:
            chunk = os.read(_fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            message = json.loads(line)
            if message.get("type") == "run":
                _jobs.put(message)
            elif message.get("type") == "reply" and _current is not None:
                _current.settle(message)
    # The worker is gone: nothing of this process group may outlive it.
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(1)


class _Usage:
    """What the job used: CPU, and its own peak memory (Linux lets a process reset its high-water mark)."""

    def __init__(self):
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.own_peak = True
        except OSError:
            self.own_peak = False
        r = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu = r.ru_utime + r.ru_stime

    def end(self) -> dict:
        r = resource.getrusage(resource.RUSAGE_SELF)
        peak = r.ru_maxrss * 1024
        rss = peak
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if self.own_peak and line.startswith("VmHWM:"):
                        peak = int(line.split()[1]) * 1024
                    elif line.startswith("VmRSS:"):
                        rss = int(line.split()[1]) * 1024
        except OSError:
            pass
        return {"peakRssBytes": peak, "rssBytes": rss, "cpuSeconds": (r.ru_utime + r.ru_stime) - self.cpu}


def _leftover_processes() -> list[int] | None:
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    me, group = os.getpid(), os.getpgrp()
    found = []
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split(" ")
        if fields[0] != "Z" and int(fields[2]) == group:
            found.append(int(entry))
    return found


PROGRESS_TIMER = "pixyz-progress"


def _leftovers(threads_before: set, baseline: "_Baseline") -> str | None:
    """Why this process must not serve another job, from what the job left behind; None when nothing."""
    processes = _leftover_processes()
    if processes is None:
        return "its leftover subprocesses cannot be listed here"
    if processes:
        return f"the script left {len(processes)} subprocess(es) running ({', '.join(map(str, processes))})"
    # Daemon threads too: they would run on into the next job (its log, its sub-task backend).
    threads = [t for t in threading.enumerate() if t.is_alive() and t not in threads_before and t.name != PROGRESS_TIMER]
    if threads:
        return f"the script left {len(threads)} thread(s) running ({', '.join(t.name for t in threads)})"
    return baseline.changed()


def error_info(err: BaseException) -> dict:
    if isinstance(err, ex.ScriptError):
        return {"type": err.error_type, "name": "Error", "message": str(err), "stack": None}
    name = type(err).__name__
    if isinstance(err, SystemExit):
        message = f"the script called exit({err.code!r})"
    else:
        message = str(err) or name
    return {"type": "ScriptFailed", "name": name, "message": message, "stack": ex.script_traceback(err)}


class _Baseline:
    """What a job may change in this process and is put back after it; or, where putting it back is
    not safe (the standard streams, logging's handlers), what retires the process instead."""

    SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM") if hasattr(signal, n))

    def __init__(self):
        self.cwd = os.getcwd()
        self.env = dict(os.environ)
        self.path = list(sys.path)
        self.umask = os.umask(0o022)
        os.umask(self.umask)
        self.handlers = {s: signal.getsignal(s) for s in self.SIGNALS}
        self.streams = (sys.stdin, sys.stdout, sys.stderr)
        self.log_handlers = list(logging.getLogger().handlers)

    def restore(self) -> None:
        os.chdir(self.cwd)
        os.environ.clear()
        os.environ.update(self.env)
        sys.path[:] = self.path
        os.umask(self.umask)
        # A timer the job armed must not go off in the next one.
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)
        for s, h in self.handlers.items():
            try:
                signal.signal(s, h)
            except (TypeError, ValueError):
                pass
        sys.modules.pop(ex.MODULE_NAME, None)

    def changed(self) -> str | None:
        """A change that cannot be undone safely: the process is replaced instead of reused."""
        if (sys.stdin, sys.stdout, sys.stderr) != self.streams:
            return "the script replaced sys.stdin, sys.stdout or sys.stderr"
        if logging.getLogger().handlers != self.log_handlers:
            return "the script changed logging's root handlers"
        return None


def run(message: dict, baseline: _Baseline) -> None:
    global _current
    job = message["job"]
    threads_before = set(threading.enumerate())
    usage = _Usage()
    backend = RemoteBackend(job["jobId"], job["script"])
    _current = backend
    set_backend(backend)
    live = True
    state = {"tokens": float(PROGRESS_BURST), "refilled": time.monotonic(), "timer": None}
    pc = None

    def report():
        if not live or state["timer"] is not None or pc is None:
            return
        now = time.monotonic()
        state["tokens"] = min(PROGRESS_BURST, state["tokens"] + (now - state["refilled"]) / PROGRESS_EVERY_S)
        state["refilled"] = now
        if state["tokens"] >= 1:
            state["tokens"] -= 1
            send({"type": "progress", "progress": pc._progress.snapshot()})
            return

        def later():
            state["timer"] = None
            if live:
                send({"type": "progress", "progress": pc._progress.snapshot()})

        state["timer"] = threading.Timer(PROGRESS_EVERY_S, later)
        state["timer"].name = PROGRESS_TIMER
        state["timer"].daemon = True
        state["timer"].start()

    try:
        if message.get("cwd"):
            os.chdir(message["cwd"])
        os.environ.update(message.get("env") or {})
        pc = ProgramContext(
            task_id=job["jobId"],
            script=job["script"],
            data=job.get("data"),
            root_file=job.get("rootFile"),
            entrypoint=job["entrypoint"],
            time_request=job.get("timeRequest"),
            time_limit=job.get("timeLimitSeconds"),
            compute_only=job.get("computeOnly", False),
            queue=job.get("queue"),
            shadow=job.get("name"),
            params=job.get("params"),
            input_file=job.get("inputFile"),
            input_dir=job.get("inputDir"),
            output_dir=job.get("outputDir"),
            retry=max(0, job.get("attempt", 1) - 1),
        )
        pc._progress._on_change = report
        send({"type": "progress", "progress": pc._progress.snapshot()})  # the job is RUNNING from here
        module = ex.load_module(job["script"])
        fn = ex.find_entrypoint(module, job["entrypoint"])
        value = ex.checked_result(ex.call_entrypoint(fn, pc, job.get("params")))
        pc.progress_stop()
        end = {"type": "result", "value": value, "progress": pc._progress.snapshot()}
    except BaseException as err:  # noqa: BLE001 — a script's SystemExit or KeyboardInterrupt ends its job, not this process
        end = {"type": "error", "error": error_info(err), "progress": pc._progress.snapshot() if pc is not None else None}
    live = False
    if state["timer"] is not None:
        state["timer"].cancel()
    backend.close()
    _current = None
    set_backend(None)
    baseline.restore()
    marker = message.get("endMarker")
    if marker:
        # What the job printed first, then the marker straight on the descriptors the worker reads
        # (whatever the script did to sys.stdout and sys.stderr).
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        for fd in (1, 2):
            try:
                os.write(fd, f"{marker}\n".encode())
            except OSError:
                pass
    send({**end, "usage": usage.end()})
    retire = _leftovers(threads_before, baseline)
    send({"type": "idle", **({"retire": retire} if retire else {})})


def main() -> None:
    global _fd
    if "NODE_CHANNEL_FD" not in os.environ:
        print("runner: start me through the runScript activity (needs the worker's IPC channel)", file=sys.stderr)
        sys.exit(2)
    _fd = int(os.environ["NODE_CHANNEL_FD"])
    os.set_blocking(_fd, True)
    for key in ("NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE"):
        os.environ.pop(key, None)  # not a script's business, nor its subprocesses'
    ex.install_sdk_hint()
    sys.dont_write_bytecode = True  # no __pycache__ beside a job's script (in the share, in scripts/process)
    baseline = _Baseline()
    threading.Thread(target=_read_loop, name="pixyz-ipc", daemon=True).start()
    send({"type": "ready"})
    while True:
        run(_jobs.get(), baseline)


if __name__ == "__main__":
    main()
