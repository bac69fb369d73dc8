#!/usr/bin/env python3
"""check_dashboard.py SOURCE_DIR: deploy/grafana/faultline.json is valid JSON, every panel has
queries, and every query (and template variable) uses only metrics of the README's "Alerts and
metrics" table, at least one each; every metric of that table is written by the collector's
code (collector/src/metrics.c, exporter.c). Prints one line per problem; exit 1 if any."""
import json
import re
import sys

src = sys.argv[1]
problems = []
METRIC = re.compile(r"\b((?:faultline|process)_[a-z_]+)\b")

readme = open(f"{src}/README.md", encoding="utf-8").read()
m = re.search(r"^### Prometheus metrics\n(.*?)^#", readme, re.S | re.M)
if not m:
    sys.exit("README.md: no '### Prometheus metrics' section")
names = set()
for line in m.group(1).splitlines():
    if not line.startswith("| `"):
        continue
    cell = line.split("|")[1]
    base = None
    for tok in re.findall(r"`([a-z_]+)`", cell):
        if tok.startswith("_"):  # `_sum`, `_count` after a `..._bucket`
            names.add(base + tok)
        else:
            names.add(tok)
            if tok.endswith("_bucket"):
                base = tok[: -len("_bucket")]
if len(names) < 20:
    problems.append(f"README.md: only {len(names)} metrics found in the table")

code = "".join(open(f"{src}/collector/src/{f}", encoding="utf-8").read()
               for f in ("metrics.c", "exporter.c"))
for n in sorted(names):
    if f'"{n}' not in code and f"{n} " not in code:
        problems.append(f"README metric {n} is not written by collector/src/metrics.c or exporter.c")

try:
    dash = json.load(open(f"{src}/deploy/grafana/faultline.json", encoding="utf-8"))
except (OSError, ValueError) as e:
    sys.exit(f"deploy/grafana/faultline.json: not valid JSON: {e}")


def check_expr(where, expr):
    used = set(METRIC.findall(expr))
    if not used:
        problems.append(f"{where}: query uses no Faultline metric: {expr}")
    for u in sorted(used - names):
        problems.append(f"{where}: {u} is not a metric of the README table: {expr}")


panels = dash.get("panels", [])
if not panels:
    problems.append("deploy/grafana/faultline.json: no panels")
for p in panels:
    title = p.get("title", "?")
    targets = p.get("targets") or []
    if not targets:
        problems.append(f"panel '{title}': no queries")
    for t in targets:
        check_expr(f"panel '{title}'", t.get("expr", ""))
for v in dash.get("templating", {}).get("list", []):
    if v.get("type") == "query":
        check_expr(f"variable '{v.get('name')}'", str(v.get("query", "")))

for p in problems:
    print(p)
print(f"{len(panels)} panels, {sum(len(p.get('targets') or []) for p in panels)} queries, "
      f"{len(names)} contract metrics, {len(problems)} problems")
sys.exit(1 if problems else 0)
