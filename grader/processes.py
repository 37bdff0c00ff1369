"""OS process control for the sandbox: finding and killing every process a run left, and the sandbox users.

Linux-specific (prctl, /proc through psutil, setuid, flock). grader.sandbox drives it; nothing here knows
about cells, probes or answers.
"""
import fcntl
import os
import pwd
import signal
import stat
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

from hw8core.wire import read_at_most


class NoSandboxUser(RuntimeError):
    """No sandbox user could be held for a run."""


class _LiveChildren:
    """The sandbox children of this process that are running now. Sections side by side (hw8core/parallel.py) run
    several sandboxes in one process, each cleaning up after its own children: a child started by another sandbox
    is neither a leftover to kill (kill_adopted) nor a zombie to reap (reap_zombies) until its sandbox is done."""

    def __init__(self):
        self.lock = threading.RLock()
        self.pids = set()

    @contextmanager
    def __call__(self):
        """Start a child inside this (register its pid at once): no clean-up sees it unregistered."""
        with self.lock:
            yield self.pids.add

    def done(self, pid):
        with self.lock:
            self.pids.discard(pid)


live_child = _LiveChildren()


def set_subreaper():
    """Orphans of the child become our children, so none escapes the clean-up."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass


def is_subreaper():
    """Whether orphans of our descendants become our children (prctl PR_GET_CHILD_SUBREAPER; set_subreaper)."""
    try:
        import ctypes
        value = ctypes.c_int(0)
        return ctypes.CDLL(None, use_errno=True).prctl(37, ctypes.byref(value), 0, 0, 0) == 0 and value.value == 1
    except Exception:
        return False


def _alive(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


# How much of a process's environment is read to find the sandbox token. A process sets its own environment's
# memory (prctl PR_SET_MM can point it at gigabytes of untouched pages), and psutil's environ() reads all of it. The
# child's environment is the few variables the sandbox gives it (grader/sandbox.py), the token among them: 64 KiB
# is far past it, and a process that moved the token beyond that has rewritten its environment, which it could
# as well have done without the token (the session and the sandbox uid find it then).
ENVIRON_BYTES = 64 * 2 ** 10


def carries_token(pid, token, limit=ENVIRON_BYTES):
    """Whether /proc/pid/environ holds HW8_SANDBOX_TOKEN=token in its first `limit` bytes (no more is read)."""
    try:
        fd = os.open(f"/proc/{int(pid)}/environ", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        data = read_at_most(fd, limit)
    except OSError:
        return False
    finally:
        os.close(fd)
    return f"HW8_SANDBOX_TOKEN={token}".encode() in data.split(b"\0")


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
            if os.getsid(p.pid) == pid or carries_token(p.pid, token):
                found.add(p.pid)
        except (psutil.Error, OSError):
            continue
    return found


def run_processes(pid, token):
    """The child and every process of its run that is still there (its tree, its session, its token)."""
    return {pid, *_sandbox_processes(pid, token)}


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


def _kill_all(procs, reap=True):
    killed = set()
    for p in procs:
        try:
            p.kill()
            killed.add(p.pid)
        except psutil.Error:
            pass
    if reap:
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
        new, zombies = [], set()
        with live_child.lock:  # the scan and the kill: no sandbox starts a child in between
            try:
                for c in psutil.Process().children():
                    if (c.pid, c.create_time()) in before or c.pid in live_child.pids:
                        continue
                    if c.status() == psutil.STATUS_ZOMBIE:  # already dead: only reap it
                        zombies.add(c.pid)
                        continue
                    new.append(c)
            except psutil.Error:
                pass
            for c in new:
                try:
                    victims += c.children(recursive=True)
                except psutil.Error:
                    pass
            victims += new
            killed = _kill_all(victims, reap=False) if new else set()
        _reap_orphans(zombies, wait=0.1)
        if not new:
            break
        _reap_orphans(killed)
        time.sleep(0.05)
    return len({p.pid for p in victims})


def _kill_minus_one_as(uid):
    """kill(-1, SIGKILL) from a short-lived process running as uid: every process of that uid at once. The kernel
    walks the process list under a lock that fork() must wait for, so a fork chain cannot outrun it as it
    outruns a scan of /proc."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(pwd.getpwuid(uid).pw_gid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def reap_zombies(before):
    """Reap our children that died and are not among `before` (adopted orphans of a fork chain pile up as zombies)."""
    reaped = 0
    try:
        for c in psutil.Process().children():
            try:
                if c.pid in live_child.pids:  # another sandbox's child: its own sandbox waits for it
                    continue
                if (c.pid, c.create_time()) not in before and c.status() == psutil.STATUS_ZOMBIE:
                    reaped += os.waitpid(c.pid, os.WNOHANG)[0] == c.pid
            except (psutil.Error, ChildProcessError):
                continue
    except psutil.Error:
        pass
    return reaped


def kill_uid(uid):
    """Kill every process running as uid (the sandbox user's, while this run holds that user)."""
    if os.geteuid() == 0 and uid != 0:
        _kill_minus_one_as(uid)
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


def lock_dir():
    """Where the sandbox users' lock files live: a folder only this uid may enter (root's under /run), never a
    world-writable one, where a sandbox user could plant a FIFO, a link or a lock it holds."""
    base = os.environ.get("HW8_LOCK_DIR") or ("/run/hw8-grader" if os.geteuid() == 0 and os.path.isdir("/run")
                                              else os.path.join(tempfile.gettempdir(), f"hw8-grader-locks-{os.geteuid()}"))
    try:
        os.mkdir(base, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(base)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise NoSandboxUser(f"{base} is not a private folder of uid {os.geteuid()} (mode {oct(st.st_mode)}): "
                            f"refusing to keep the sandbox users' locks there")
    return Path(base)


def sandbox_user_names(user, count):
    """The user for run slot 0, then user-2, user-3 ... for concurrent runs (batch -j N)."""
    return [user] + [f"{user}-{k}" for k in range(2, count + 1)]


def sandbox_user_count(user):
    """How many of user, user-2, user-3 ... exist: the runs (or side-by-side children) that can each have one."""
    return sum(_user_exists(n) for n in sandbox_user_names(user, 64))


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
    if not names:
        raise NoSandboxUser(f"there is no user named {user!r} on this machine")
    deadline = time.monotonic() + wait
    while True:
        for name in names:
            f = open(lock_dir() / f"hw8-sandbox-{name}.lock", "a")
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
