#!/usr/bin/env bash
# dashboard.sh - deploy/grafana/faultline.json is valid JSON and every query uses the metrics of
# the README's contract table, which the collector's code writes (tests/docs/check_dashboard.py).
set -euo pipefail
python3 "${FL_SOURCE:?run via ctest}/tests/docs/check_dashboard.py" "$FL_SOURCE"
