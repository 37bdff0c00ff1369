"""make autograder: build dist/autograder.zip for Gradescope.

Gradescope unpacks the zip into /autograder/source: setup.sh, its verify_image.py and run_autograder
sit at the zip's root beside grader/, hw8core/, reference/ and the pinned requirements (one lock per Python). Nothing is pip-installed from it, so
the sandbox user, who cannot read /autograder/source, cannot read the reference either.
"""
import os
import secrets
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = ["grader", "hw8core", "reference", "pyproject.toml", "setup.py", "requirements.txt", "requirements", "README.md"]


def files():
    for name in INCLUDE:
        path = ROOT / name
        if path.is_file():
            yield path
            continue
        for p in sorted(path.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc"):
                yield p


def build(out=ROOT / "dist" / "autograder.zip"):
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16  # executable
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, (ROOT / "autograder" / name).read_bytes())
        z.write(ROOT / "autograder" / "verify_image.py", "verify_image.py")
        # One probe seed per assignment (HW8_SEED=N make autograder, else drawn now): a resubmission is
        # graded on the same probes. run_autograder passes it; results.json shows it in extra_data.seed.
        z.writestr("seed.txt", f"{int(os.environ.get('HW8_SEED') or secrets.randbelow(2 ** 31))}\n")
        for p in files():
            z.write(p, str(p.relative_to(ROOT)))
    return out


if __name__ == "__main__":
    path = build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist" / "autograder.zip")
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
