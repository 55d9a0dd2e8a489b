#!/usr/bin/env bash
# Builds, on a CPU machine with pip, the Python packages that a bare GPU machine lacks, for
# Python 3.12 on x86-64 Linux, as one compressed site folder:
#
#     bash scripts/device_kit.sh            # -> .device_kit/site.tar.xz (git-ignored)
#
# The GPU machine this is made for has torch, torchvision, numpy, pandas, PyYAML, grpcio,
# safetensors, onnx, onnxruntime, tensorboard and matplotlib, but no Ray, Optuna, fvcore,
# mlxtend or plotly; nothing can be downloaded there. A call to that machine may carry at
# most 64 MiB, and Ray's wheel alone is 79 MB, so Ray is unpacked and the parts that Tune
# never imports (the Java jars, RLlib, Serve, the LLM library) are left out before the
# whole folder is compressed with xz. Pure-Python packages published only as source
# (fvcore, iopath) are built into wheels here. Versions are pinned to what this project is
# tested with; pydantic is there because Ray Tune imports Ray Train, which needs it (the
# first GPU run without it failed at `import ray.tune`). `benchmarks/gpu_check.sh` unpacks
# the archive into /tmp/site there (3-4 s on the H200 machine).
set -euo pipefail
cd "$(dirname "$0")/.."

KIT=.device_kit
PYTHON=${PYTHON:-python3}
LIMIT_BYTES=$((56 * 1024 * 1024)) # leaves room under the 64 MiB carry for the repository

BINARY=(ray==2.60.0 sqlalchemy==2.1.9 rpds-py==2026.9.1 pydantic-core==2.50.5)
PURE=(optuna==5.1.0 alembic==1.20.1 colorlog==6.12.0 mako==1.4.3 jsonschema==4.26.0
    referencing==0.37.0 jsonschema-specifications==2025.9.1 yacs==0.1.8 termcolor==3.3.0
    mlxtend==0.25.0 plotly==7.1.0 tensorboardx==2.6.5 pydantic==2.14.4 annotated-types==0.8.0
    typing-inspection==0.4.5)
SOURCE_ONLY=(fvcore==0.1.5.post20221221 iopath==0.1.10)
TRIM=(ray/jars ray/rllib ray/serve ray/llm)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/wheels" "$work/site" "$KIT"

"$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$work/wheels" "${BINARY[@]}" "${PURE[@]}"
"$PYTHON" -m pip wheel -q --no-deps -w "$work/wheels" "${SOURCE_ONLY[@]}"

# A wheel is a zip of its site-packages files: unpacking it there is installing it. The
# file modes are kept (Ray's gcs_server and raylet are executables).
"$PYTHON" - "$work/site" "$work"/wheels/*.whl <<'UNPACK'
import os, sys, zipfile
site, wheels = sys.argv[1], sys.argv[2:]
for wheel in wheels:
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            path = archive.extract(member, site)
            mode = (member.external_attr >> 16) & 0o777
            if mode:
                os.chmod(path, mode)
UNPACK
for part in "${TRIM[@]}"; do rm -rf "${work:?}/site/$part"; done
find "$work/site" -name __pycache__ -type d -prune -exec rm -rf {} +

tar -C "$work/site" -cf - . | xz -T0 -6 >"$KIT/site.tar.xz.part"
mv "$KIT/site.tar.xz.part" "$KIT/site.tar.xz"
size=$(stat -c %s "$KIT/site.tar.xz")
ls "$work/wheels" >"$KIT/CONTENTS"
echo "device kit: $KIT/site.tar.xz, $((size / 1024 / 1024)) MiB, $(wc -l <"$KIT/CONTENTS") packages"
if ((size > LIMIT_BYTES)); then
    echo "device kit: over $((LIMIT_BYTES / 1024 / 1024)) MiB; trim more in scripts/device_kit.sh" >&2
    exit 1
fi
