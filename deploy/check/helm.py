#!/usr/bin/env python3
"""`helm lint` and `helm template` of the chart, with Helm's own code (the helm-python-sdk wheel
from PyPI embeds Helm as a library), for a machine without the helm binary.

    helm.py lint     CHART [VALUES.yaml …]   prints the lint report as JSON; exit 1 on errors
    helm.py template CHART [VALUES.yaml …]   prints the rendered manifests, as `helm template` does
"""
import json
import sys

import helm_python


def merged_values(files):
    values = {}
    for file in files:
        with open(file, encoding="utf-8") as f:
            values = deep_merge(values, helm_python.values_from_yaml(f.read()))
    return values


def deep_merge(base, over):
    out = dict(base)
    for key, value in over.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def main(argv):
    if len(argv) < 2 or argv[0] not in ("lint", "template"):
        sys.exit(__doc__)
    command, chart, files = argv[0], argv[1], argv[2:]
    values = merged_values(files)
    if command == "lint":
        report = helm_python.lint(chart, values, strict=True, kube_version="v1.30.0")
        print(json.dumps(report, indent=2))
        sys.exit(1 if report.get("errors") or any(m.get("severity", 0) >= 2 for m in report.get("messages", [])) else 0)
    rendered = helm_python.Chart.load(chart).render(values, name="pixyz", namespace="pixyz", is_install=True)
    for path in sorted(rendered):
        text = rendered[path].strip()
        if path.endswith(".yaml") and text:
            print(f"---\n# Source: {path}\n{text}")
        elif path.endswith("NOTES.txt"):
            print(f"# NOTES:\n# " + "\n# ".join(text.splitlines()), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
