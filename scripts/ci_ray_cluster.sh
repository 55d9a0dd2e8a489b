#!/usr/bin/env bash
# A real Ray cluster on this machine: `ray start --head` on a free port of 127.0.0.1, a
# small `nas search --address 127.0.0.1:PORT` against it, a check of its outcome, and
# the cluster stopped whatever happened (trap on EXIT).
#
# The cluster is stopped by process id, not with `ray stop`: `ray stop` kills every Ray
# process of this user on the machine, including other people's searches and tests.
# This cluster's processes are the ones whose command line names its own --temp-dir,
# plus their descendants (agents and workers rename themselves to "ray::...").
#
# Usage: scripts/ci_ray_cluster.sh   (PYTHON=... overrides .venv/bin/python, NAS=... the CLI)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PYTHON")
NAS=${NAS:-$BIN/nas}
WORK=$(mktemp -d /tmp/nas-ci-ray.XXXXXX)
TEMP_DIR="$WORK/ray"  # short: Ray's socket paths under it must stay below 108 characters
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cluster_pids() {
    local roots pid children all=""
    roots=$(pgrep -f -- "$TEMP_DIR" || true)
    for pid in $roots; do
        all="$all $pid"
        children=$(pgrep -P "$pid" || true)
        while [ -n "$children" ]; do
            all="$all $children"
            children=$(for c in $children; do pgrep -P "$c" || true; done)
        done
    done
    echo "$all" | tr ' ' '\n' | grep -v '^$' | grep -v "^$$\$" | sort -u || true
}

stop_cluster() {
    local code=$? pids left waited=0
    pids=$(cluster_pids)
    if [ -n "$pids" ]; then
        kill -TERM $pids 2>/dev/null || true
        while [ $waited -lt 15 ]; do
            left=$(for p in $pids; do kill -0 "$p" 2>/dev/null && echo "$p"; done || true)
            [ -z "$left" ] && break
            sleep 1
            waited=$((waited + 1))
        done
        left=$(for p in $pids; do kill -0 "$p" 2>/dev/null && echo "$p"; done || true)
        [ -n "$left" ] && kill -KILL $left 2>/dev/null || true
    fi
    if [ $code -eq 0 ]; then
        rm -rf "$WORK"
    else
        echo "ci_ray_cluster: FAILED (exit $code); logs kept in $WORK" >&2
    fi
    exit $code
}
trap stop_cluster EXIT

echo "ci_ray_cluster: starting a Ray head on 127.0.0.1:$PORT" >&2
if ! "$BIN/ray" start --head --port="$PORT" --node-ip-address=127.0.0.1 --num-cpus=2 \
        --include-dashboard=false --disable-usage-stats --temp-dir="$TEMP_DIR" \
        >"$WORK/ray-start.log" 2>&1; then
    cat "$WORK/ray-start.log" >&2
    exit 1
fi

cat >"$WORK/space.yaml" <<'YAML'
name: ci-cluster
input: {channels: 1, resolution: 28, classes: 10}
stem: {type: conv, width: [8, 16], stride: 2}
stages:
  - {block: [resnet, mbconv], depth: 1, width: [8, 16], stride: 2, kernel: 3, expansion: 2}
head: {pool: avg}
data: {name: mnist5k, limit: 600}
train: {epochs: 1, batch_size: 64}
YAML

echo "ci_ray_cluster: nas search --address 127.0.0.1:$PORT" >&2
$NAS search "$WORK/space.yaml" --address "127.0.0.1:$PORT" --trials 3 --seed 0 \
    --constraint 'params<=1e6' --no-plots --output "$WORK/run" --json >"$WORK/outcome.json"

"$PYTHON" - "$WORK" <<'PY'
import json, sys
from pathlib import Path

work = Path(sys.argv[1])
outcome = json.loads((work / "outcome.json").read_text())
run = json.loads((work / "run" / "run.json").read_text())
problems = []
if not outcome["finished"] or outcome["decided"] != 3:
    problems.append(f"expected 3 decided trials, got {outcome['decided']} ({outcome['counts']})")
if outcome["counts"].get("complete", 0) < 1:
    problems.append(f"no trial completed: {outcome['counts']}")
if run.get("status") != "finished":
    problems.append(f"run.json status is {run.get('status')!r}")
if not outcome["pareto"]:
    problems.append("empty Pareto front")
if problems:
    sys.exit("ci_ray_cluster: " + "; ".join(problems))
print(f"ci_ray_cluster: ok: {outcome['counts']}, front of {len(outcome['pareto'])}",
      file=sys.stderr)
PY
