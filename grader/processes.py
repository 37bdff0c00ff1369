"""OS process control for the sandbox: limits, the uid switch, and finding and killing every process a run left.

Linux-specific (prctl, /proc through psutil, setuid, flock). grader.sandbox drives it; nothing here knows
about cells, probes or answers.
"""
import fcntl
import os
import pwd
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil


class NoSandboxUser(RuntimeError):
    """No sandbox user could be held for a run."""


def set_subreaper():
    """Orphans of the child become our children, so none escapes the clean-up."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass


def preexec(limits, uid, gid):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        if uid is not None:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
    return apply


def _alive(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _sandbox_processes(pid, token):
    """The child's descendants, its session, and anything carrying its token (double forks, setsid)."""
    found = set()
    try:
        found.update(p.pid for p in psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        pass
    for p in psutil.process_iter():
        if p.pid in (os.getpid(), pid):
            continue
        try:
            if os.getsid(p.pid) == pid or p.environ().get("HW8_SANDBOX_TOKEN") == token:
                found.add(p.pid)
        except (psutil.Error, OSError):
            continue
    return found


def kill_tree(pid, token):
    """Kill the child and every process it left; return how many besides the child were killed."""
    killed = set()
    for _ in range(10):
        found = {v for v in _sandbox_processes(pid, token) if _alive(v)}
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for v in found:
            try:
                os.kill(v, signal.SIGKILL)
                killed.add(v)
            except (ProcessLookupError, PermissionError):
                pass
        if not found:
            break
        time.sleep(0.05)
    _reap_orphans(killed)
    return len(killed)


def _reap_orphans(pids, wait=2.0):
    """Killed grandchildren become our zombies once their parent is gone (we are the subreaper)."""
    deadline = time.monotonic() + wait
    pending = set(pids)
    while pending and time.monotonic() < deadline:
        for v in list(pending):
            try:
                proc = psutil.Process(v)
                if proc.ppid() != os.getpid():
                    if proc.status() != psutil.STATUS_ZOMBIE:
                        continue  # still being re-parented
                    pending.discard(v)  # someone else's to reap
                    continue
                os.waitpid(v, os.WNOHANG)
            except (psutil.NoSuchProcess, ChildProcessError):
                pending.discard(v)
            except psutil.Error:
                pending.discard(v)
        time.sleep(0.02)


def children_now():
    """Our direct children, as (pid, start time): what a run must not touch."""
    found = set()
    try:
        for c in psutil.Process().children():
            try:
                found.add((c.pid, c.create_time()))
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return found


def _kill_all(procs):
    killed = set()
    for p in procs:
        try:
            p.kill()
            killed.add(p.pid)
        except psutil.Error:
            pass
    _reap_orphans(killed)
    return killed


def kill_adopted(before):
    """Kill every child of ours that was not there before the run, and its descendants.

    We are the child subreaper: a daemon that double-forks, calls setsid() and execs with an empty
    environment carries no token and shares no session, but once its parent exits it is re-parented
    to us, so it is found here.
    """
    victims = []
    for _ in range(5):
        new = []
        try:
            for c in psutil.Process().children():
                if (c.pid, c.create_time()) in before:
                    continue
                if c.status() == psutil.STATUS_ZOMBIE:  # already dead: only reap it
                    _reap_orphans({c.pid}, wait=0.1)
                    continue
                new.append(c)
        except psutil.Error:
            pass
        if not new:
            break
        for c in new:
            try:
                victims += c.children(recursive=True)
            except psutil.Error:
                pass
        victims += new
        _kill_all(victims)
        time.sleep(0.05)
    return len({p.pid for p in victims})


def kill_uid(uid):
    """Kill every process running as uid (the sandbox user's, while this run holds that user)."""
    killed = set()
    for _ in range(10):
        found = []
        for p in psutil.process_iter():
            try:
                if uid in p.uids() and p.pid != os.getpid():
                    found.append(p)
            except psutil.Error:
                continue
        if not found:
            break
        killed |= _kill_all(found)
        time.sleep(0.05)
    return len(killed)


def remove_files_of(uid, roots=("/tmp", "/var/tmp", "/dev/shm")):
    """Delete what uid left in the shared temporary folders, so no run reads another's files.

    Only the folders' own entries are looked at: whatever uid made below them sits in an entry it owns
    (these folders are sticky, and it may create nothing inside other users' entries but world-writable ones).
    """
    for root in roots:
        try:
            entries = list(os.scandir(root))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                continue


LOCK_DIR = Path(os.environ.get("HW8_LOCK_DIR", "/run/lock" if os.path.isdir("/run/lock") else tempfile.gettempdir()))


def sandbox_user_names(user, count):
    """The user for run slot 0, then user-2, user-3 ... for concurrent runs (batch -j N)."""
    return [user] + [f"{user}-{k}" for k in range(2, count + 1)]


def ensure_sandbox_users(user, count):
    """Create the extra sandbox users of a batch (root only): each concurrent run gets its own uid."""
    for name in sandbox_user_names(user, count):
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)


def acquire_user(user, wait=3600.0):
    """Hold one sandbox user for this run: user, or a free user-2, user-3 ...; (name, lock file)."""
    names = [n for n in sandbox_user_names(user, 64) if _user_exists(n)]
    deadline = time.monotonic() + wait
    while True:
        for name in names:
            f = open(LOCK_DIR / f"hw8-sandbox-{name}.lock", "a")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return name, f
            except OSError:
                f.close()
        if time.monotonic() > deadline:
            raise NoSandboxUser(f"no free sandbox user among {names}")
        time.sleep(0.2)


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
