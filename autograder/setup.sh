#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the image (Ubuntu 22.04, system python3 3.10).
# The system python3 is left alone: the grader gets its own venv with a CPU-only torch.
set -euxo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${HW8_VENV:-/opt/hw8-venv}"
SANDBOX_USER="${HW8_SANDBOX_USER:-hw8student}"
# The CPU wheel index keeps torch small; set HW8_TORCH_INDEX="" to use pip's own configuration.
TORCH_INDEX="${HW8_TORCH_INDEX-https://download.pytorch.org/whl/cpu}"

if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" >/dev/null 2>&1; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
if [ -n "$TORCH_INDEX" ]; then
    "$VENV/bin/pip" install -q torch==2.13.0 --index-url "$TORCH_INDEX"
else
    "$VENV/bin/pip" install -q torch==2.13.0
fi
"$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
# The grader itself is not installed: run_autograder puts /autograder/source on PYTHONPATH, so the
# reference stays in source/, which the sandbox user cannot read.
chmod -R a+rX "$VENV"

# The unprivileged user that runs student code: no home, no shell, no password.
if ! id "$SANDBOX_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$SANDBOX_USER"
fi
