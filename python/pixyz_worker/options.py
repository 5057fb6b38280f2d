"""Reads a job script's ``@pixyz_schedule(...)`` options and its entrypoint's docstring without running it
(Python's ``ast``): the API calls this at submission, as it reads a TypeScript script's options.

    python -m pixyz_worker.options <entrypoint> [<file name>] < script.py   → JSON on stdout:
    {"options": {...}, "doc": "..."} or {"error": "..."}
"""
from __future__ import annotations

import ast
import json
import sys

#: Upstream's option names, as the scheduler names them.
NAMES = {"time_limit": "timeLimit", "compute_only": "computeOnly", "max_retries": "retries"}


def _constant(node, constants: dict, depth: int = 0):
    """A literal, a top-level constant it names, or a dict/list of them; ``...`` (Ellipsis) for anything else."""
    if depth > 8:
        return ...
    if isinstance(node, ast.Name):
        return _constant(constants[node.id], constants, depth + 1) if node.id in constants else ...
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            key = _constant(k, constants, depth + 1) if k is not None else ...
            value = _constant(v, constants, depth + 1)
            if isinstance(key, str) and value is not ...:
                out[key] = value
        return out
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_constant(e, constants, depth + 1) for e in node.elts]
        return ... if any(i is ... for i in items) else items
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        return {k.arg: v for k, v in ((k, _constant(k.value, constants, depth + 1)) for k in node.keywords) if k.arg and v is not ...}
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ...
    return value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else ...


def _is_schedule(node) -> bool:
    func = node.func if isinstance(node, ast.Call) else node
    return (isinstance(func, ast.Name) and func.id == "pixyz_schedule") or (isinstance(func, ast.Attribute) and func.attr == "pixyz_schedule")


def inspect(source: str, entrypoint: str, file_name: str = "<script>") -> dict:
    try:
        tree = ast.parse(source, filename=file_name)
    except SyntaxError as err:
        where = f" (line {err.lineno}, column {err.offset})" if err.lineno else ""
        return {"error": f"The script does not parse: {err.msg}{where}"}
    except (ValueError, RecursionError) as err:
        return {"error": f"The script does not parse: {err}"}
    constants: dict = {}
    target = None
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                if isinstance(t, ast.Name):
                    constants[t.id] = stmt.value
                    if t.id == entrypoint:
                        target = stmt
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            constants[stmt.target.id] = stmt.value
            if stmt.target.id == entrypoint:
                target = stmt
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == entrypoint:
            target = stmt
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if (alias.asname or alias.name) == entrypoint:
                    target = stmt
    if target is None:
        return {"error": f"The script file does not have the function {entrypoint}"}
    if not isinstance(target, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {"options": {}, "doc": None}
    options: dict = {}
    for deco in target.decorator_list:
        if not _is_schedule(deco):
            continue
        if isinstance(deco, ast.Call):
            for kw in deco.keywords:
                if kw.arg is None:
                    continue
                value = _constant(kw.value, constants)
                if value is not ...:
                    options[NAMES.get(kw.arg, kw.arg)] = value
    return {"options": options, "doc": ast.get_docstring(target)}


def main() -> int:
    entrypoint = sys.argv[1] if len(sys.argv) > 1 else "main"
    file_name = sys.argv[2] if len(sys.argv) > 2 else "<script>"
    source = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    found = inspect(source, entrypoint, file_name)
    try:
        text = json.dumps(found, allow_nan=False)
    except ValueError:
        text = json.dumps({"error": "The script's @pixyz_schedule options hold a number JSON cannot carry (inf or nan)"})
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
