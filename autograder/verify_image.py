"""setup.sh's proof of its own result: run as root at image-build time; exits 1 with the cause.

    python verify_image.py interpreter VENV USER     the sandbox user can start the venv's python
    python verify_image.py full VENV USER SOURCE [CAP_GIB]
        ... and import numpy and torch under the memory cap the zip grades with (RLIMIT_AS, CAP_GIB, default 0.8,
        as run_autograder's HW8_MEMORY_GIB), and cannot read SOURCE

An image that is broken for every submission must fail to build, not grade everyone 0. Standard
library only: it runs before anything else is installed.
"""
import os
import pwd
import resource
import stat
import subprocess
import sys


def _hold_user(user):
    """The sandbox user's lock, as grader.processes.acquire_user takes it: a grade running meanwhile (a test, a
    second image) kills every process of that user when it starts and ends, this check's included."""
    import fcntl
    base = os.environ.get("HW8_LOCK_DIR") or "/run/hw8-grader"
    os.makedirs(base, mode=0o700, exist_ok=True)
    f = open(os.path.join(base, f"hw8-sandbox-{user}.lock"), "a")
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def as_user(user, argv, memory_bytes=None):
    """Run argv as user (no groups, no environment but PATH), under an address-space cap if given;
    (returncode, output)."""
    pw = pwd.getpwnam(user)
    lock = _hold_user(user)

    def drop():
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)

    try:
        p = subprocess.run(argv, preexec_fn=drop, capture_output=True, text=True, timeout=600, cwd="/",
                           env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"})
    except (OSError, subprocess.SubprocessError) as exc:
        return 127, str(exc)
    finally:
        lock.close()
    return p.returncode, (p.stdout + p.stderr).strip()


def user_can(user, path, mode):
    code, _ = as_user(user, ["/usr/bin/test", "-" + mode, path])
    return code == 0


def blocking_directory(user, path):
    """The first directory on the way to path (or to what its symlinks point at) that user cannot enter."""
    seen = set()
    todo = [os.path.abspath(path)]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        parts = p.split(os.sep)
        for i in range(2, len(parts) + 1):
            d = os.sep.join(parts[:i - 1]) or "/"
            if os.path.isdir(d) and not user_can(user, d, "x"):
                mode = stat.S_IMODE(os.stat(d).st_mode)
                return d, f"{mode:04o}"
        if os.path.islink(p):
            todo.append(os.path.join(os.path.dirname(p), os.readlink(p)))
    real = os.path.realpath(path)
    return (None, None) if real == os.path.abspath(path) or real in seen else blocking_directory(user, real)


def fail(msg):
    print(f"setup.sh: the image is broken for every submission: {msg}", file=sys.stderr)
    sys.exit(1)


def check_interpreter(venv, user):
    python = os.path.join(venv, "bin", "python")
    code, out = as_user(user, [python, "-I", "-c", "import sys; print(sys.version.split()[0])"])
    if code == 0:
        return out
    where, mode = blocking_directory(user, python)
    real = os.path.realpath(python)
    if where:
        fail(f"{user} cannot execute {python}: its interpreter {real} lives under a private directory "
             f"({where}, mode {mode}, which {user} cannot enter). Build the venv from a Python that every user "
             f"can run, such as the system python3.")
    fail(f"{user} cannot execute {python} (interpreter {real}): exit status {code}: {out[-1500:]}")


IMPORT = ("import numpy, torch; torch.ones(2) @ torch.ones(2); "
          "peak = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmPeak:')][0]; "
          "print(numpy.__version__, torch.__version__, peak)")


def check_full(venv, user, source, cap_gib=0.8):
    version = check_interpreter(venv, user)
    python = os.path.join(venv, "bin", "python")
    code, out = as_user(user, [python, "-I", "-c", IMPORT])
    if code != 0:
        where, mode = blocking_directory(user, python)
        hint = f" ({where}, mode {mode}, is closed to {user})" if where else ""
        fail(f"{user} runs {python} but cannot import numpy and torch{hint}: {out[-1500:]}")
    numpy_version, torch_version, need_kb = out.split()[-3:]
    cap = int(cap_gib * 2 ** 30)
    # The child of every grade runs under this cap: an import that needs more fails every submission.
    code, capped = as_user(user, [python, "-I", "-c", IMPORT], memory_bytes=cap)
    if code != 0:
        fail(f"under the grading memory cap of {cap >> 20} MiB (HW8_MEMORY_GIB={cap_gib:g}), {user} cannot import "
             f"torch {torch_version}: the import alone needs {int(need_kb) >> 10} MiB of address space (VmPeak, "
             f"measured without the cap). Install torch's CPU build (setup.sh's HW8_TORCH_INDEX), or raise the cap "
             f"in both setup.sh and run_autograder (HW8_MEMORY_GIB) along with Gradescope's memory setting. "
             f"Output under the cap: {capped[-500:]}")
    for probe in (source, os.path.join(source, "reference", "s1_srn.py"), os.path.join(source, "setup.sh")):
        if os.path.exists(probe) and (user_can(user, probe, "r") or
                                      (os.path.isdir(probe) and user_can(user, probe, "x"))):
            fail(f"{user} can read {probe}: the reference and the hidden checks must be private to root.")
    print(f"setup.sh: image verified: {user} runs Python {version} with numpy {numpy_version} and torch "
          f"{torch_version} (import needs {int(need_kb) >> 10} MiB of the {cap >> 20} MiB cap); "
          f"{source} is closed to {user}.")


if __name__ == "__main__":
    stage = sys.argv[1]
    if stage == "interpreter":
        print(f"setup.sh: {sys.argv[3]} runs Python {check_interpreter(sys.argv[2], sys.argv[3])}")
    elif stage == "full":
        check_full(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]) if len(sys.argv) > 5 else 0.8)
    else:
        fail(f"unknown stage {stage!r}")
