#!/usr/bin/env bash
# The GPU check in one command, for a machine with an NVIDIA GPU but without this project's
# dependencies (and without a network): unpacks the device kit built by
# `scripts/device_kit.sh` (.device_kit/site.tar.xz) into /tmp/site, then runs
# benchmarks/gpu_check.py, writing gpu_check.json and gpu_check.txt to $OUT (default
# ./gpu-check-out). Where the packages are installed already (a normal `pip install -e .`),
# the kit is skipped. `--dry-run` runs every check small on the CPU.
#
#     bash benchmarks/gpu_check.sh [--dry-run] [--sections train,data,search,latency,export]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check-out}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
if ! "$PYTHON" -c 'import ray, optuna, fvcore' 2>/dev/null; then
    if [[ ! -f .device_kit/site.tar.xz ]]; then
        echo "gpu_check: Ray, Optuna or fvcore missing and no .device_kit/site.tar.xz;" \
            "build it with: bash scripts/device_kit.sh" >&2
        exit 2
    fi
    start=$(date +%s)
    mkdir -p /tmp/site
    tar -xJf .device_kit/site.tar.xz -C /tmp/site
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
    echo "gpu_check: device kit unpacked in $(($(date +%s) - start)) s" >&2
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
exec "$PYTHON" benchmarks/gpu_check.py --out "$OUT" "$@"
