"""make lock: pin the whole grading environment, one set per Python version.

For each Python (3.10 for Gradescope's Ubuntu 22.04, 3.11, 3.12 for Ubuntu 24.04), pip resolves
requirements.txt in a scratch venv of that version (--dry-run --report) and the resolution is
written to requirements/lock-py3.X.txt. torch's CUDA-only dependencies (nvidia-*, cuda-*, triton)
are left out: the grading environment takes torch's CPU build, which needs none of them.

    python scripts/lock_requirements.py [3.10 3.11 3.12]
"""
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from pythons import portable_python  # noqa: E402

CUDA_ONLY = re.compile(r"^(nvidia-|cuda-|triton$)", re.I)


def lock(version):
    minor = int(version.split(".")[1])
    exe, why = (Path(sys.executable), None) if sys.version_info[:2] == (3, minor) else portable_python(minor)
    if exe is None:
        raise SystemExit(f"Python {version}: {why}")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([str(exe), "-m", "venv", f"{tmp}/venv"], check=True)
        report = Path(tmp) / "report.json"
        subprocess.run([f"{tmp}/venv/bin/pip", "install", "-q", "--dry-run", "--ignore-installed", "--report",
                        str(report), "-r", str(ROOT / "requirements.txt")], check=True)
        installs = json.loads(report.read_text())["install"]
    pins = sorted((i["metadata"]["name"], i["metadata"]["version"]) for i in installs)
    lines = [f"# Python {version}: the whole grading environment, from requirements.txt by "
             "scripts/lock_requirements.py.", "# torch's CUDA-only dependencies are left out (the CPU build needs none)."]
    # "2.13.0+cpu" where this machine has the CPU file: the local label would not match PyPI.
    lines += [f"{name}=={ver.split('+')[0]}" for name, ver in pins if not CUDA_ONLY.match(name)]
    out = ROOT / "requirements" / f"lock-py{version}.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out.relative_to(ROOT)} ({len(lines) - 2} packages)")


if __name__ == "__main__":
    for v in sys.argv[1:] or ["3.10", "3.11", "3.12"]:
        lock(v)
