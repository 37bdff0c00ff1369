#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the image (Ubuntu 22.04, system python3 3.10).
# The system python3 is left alone: the grader gets its own venv with a CPU-only torch. The build
# ends by proving its result (verify_image.py): an image that would fail every submission fails here.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${HW8_VENV:-/opt/hw8-venv}"
SANDBOX_USER="${HW8_SANDBOX_USER:-hw8student}"
SYSTEM_PYTHON="${HW8_SYSTEM_PYTHON:-python3}"
# The CPU wheel index keeps torch small; set HW8_TORCH_INDEX="" to use pip's own configuration.
TORCH_INDEX="${HW8_TORCH_INDEX-https://download.pytorch.org/whl/cpu}"
say() { echo "setup.sh: $*"; }

if ! "$SYSTEM_PYTHON" -m venv --help >/dev/null 2>&1 || ! "$SYSTEM_PYTHON" -c "import ensurepip" >/dev/null 2>&1; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
fi

# The unprivileged user that runs student code: no home, no shell, no password.
if ! id "$SANDBOX_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$SANDBOX_USER"
fi

"$SYSTEM_PYTHON" -m venv "$VENV"
chmod -R a+rX "$VENV"
# Fail in seconds, before any download, when the sandbox user cannot even start this interpreter.
"$SYSTEM_PYTHON" "$HERE/verify_image.py" interpreter "$VENV" "$SANDBOX_USER"

PYVER="$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
LOCK="$HERE/requirements/lock-py$PYVER.txt"
if [ ! -f "$LOCK" ]; then
    say "no pinned set for Python $PYVER (requirements/lock-py$PYVER.txt); using requirements.txt's direct pins"
    LOCK="$HERE/requirements.txt"
fi
"$VENV/bin/pip" install -q --upgrade pip
if [ -n "$TORCH_INDEX" ]; then
    "$VENV/bin/pip" install -q torch==2.13.0 --index-url "$TORCH_INDEX"
fi
"$VENV/bin/pip" install -q -r "$LOCK"
say "installed $(basename "$LOCK") into $VENV"
# The grader itself is not installed: run_autograder puts /autograder/source on PYTHONPATH, so the
# reference stays in source/, which the sandbox user cannot read.
chmod -R a+rX "$VENV"
chmod 700 "$HERE"
chmod -R go-rwx "$HERE"

# Build matplotlib's font list once, now, rather than in the first graded run (grader.sandbox.matplotlib_cache).
PYTHONPATH="$HERE" "$VENV/bin/python" -c "from grader.sandbox import matplotlib_cache; print('setup.sh: font cache', matplotlib_cache())"

# The memory cap of every graded child (run_autograder's HW8_MEMORY_GIB, the same default): the image must import
# torch under it. A CUDA build of torch maps about 3.2 GB at import and cannot; the CPU build fits.
"$SYSTEM_PYTHON" "$HERE/verify_image.py" full "$VENV" "$SANDBOX_USER" "$HERE" "${HW8_MEMORY_GIB:-0.8}"
