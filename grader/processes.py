"""OS process control for the sandbox: finding and killing every process a run left, and removing what it left.

Linux-specific (prctl, /proc through psutil, setuid, flock). grader.sandbox drives it; nothing here knows
about cells, probes or answers.
"""
import fcntl
import os
import pwd
import shutil
import signal
import stat
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


SHARED_ROOTS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/dev/mqueue")
OWN_PREFIXES = ("hw8-run-", "hw8-batch-")  # the graders' own folders: a stale one is remove_stale_runs' to judge


def _remove_entry(entry):
    """Remove one directory entry without following it (rmtree walks by file descriptor on Linux)."""
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path, ignore_errors=True)
    else:
        os.unlink(entry.path)


def remove_files_of(uid, roots=SHARED_ROOTS):
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
                if entry.stat(follow_symlinks=False).st_uid == uid:
                    _remove_entry(entry)
            except OSError:
                continue


def shared_entries(roots=SHARED_ROOTS):
    """The names in each shared folder now (what a run without a uid of its own must leave as it found)."""
    found = {}
    for root in roots:
        try:
            found[root] = {e.name for e in os.scandir(root)}
        except OSError:
            found[root] = None
    return found


def new_entries(before, uid):
    """The entries owned by uid that appeared in the shared folders since `before` (shared_entries()), except the
    graders' own run folders. Not removed: as the grader's own uid, the TA's other programs make entries there
    too, and nothing tells theirs from the run's (tests/test_integrity.py found a parallel test's folder so)."""
    found = []
    for root, names in before.items():
        if names is None:
            continue
        try:
            entries = list(os.scandir(root))
        except OSError:
            continue
        for entry in entries:
            if entry.name in names or entry.name.startswith(OWN_PREFIXES):
                continue
            try:
                if entry.stat(follow_symlinks=False).st_uid == uid:
                    found.append(entry.path)
            except OSError:
                continue
    return found


# System V IPC: /proc/sysvipc/{shm,sem,msg} list every object with its id and owner; IPC_RMID removes one.
_IPC_RMID = 0


def ipc_objects(uid):
    """{(kind, id)} of the System V IPC objects owned by uid."""
    found = set()
    for kind in ("shm", "sem", "msg"):
        try:
            with open(f"/proc/sysvipc/{kind}", encoding="ascii") as f:
                header = f.readline().split()
                rows = [line.split() for line in f]
        except OSError:
            continue
        try:
            id_col, uid_col = header.index({"shm": "shmid", "sem": "semid", "msg": "msqid"}[kind]), header.index("uid")
        except ValueError:
            continue
        for row in rows:
            try:
                if int(row[uid_col]) == uid:
                    found.add((kind, int(row[id_col])))
            except (IndexError, ValueError):
                continue
    return found


def remove_ipc(objects):
    """Remove System V IPC objects; returns how many went."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    removed = 0
    for kind, ident in objects:
        if kind == "shm":
            rc = libc.shmctl(ident, _IPC_RMID, None)
        elif kind == "sem":
            rc = libc.semctl(ident, 0, _IPC_RMID)
        else:
            rc = libc.msgctl(ident, _IPC_RMID, None)
        removed += rc == 0
    return removed


def lock_run_folder(path):
    """Hold an exclusive lock on a run folder for as long as the returned fd is open (the grader's lifetime)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def remove_stale_runs(parent, min_age=30.0):
    """Delete the run folders in parent that a killed grader left: ours, older than min_age seconds, and
    unlocked (a live grader holds its folder's lock). They hold a student's code. Returns the paths removed."""
    removed = []
    try:
        entries = [e for e in os.scandir(parent) if e.name.startswith("hw8-run-")]
    except OSError:
        return removed
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
            if not entry.is_dir(follow_symlinks=False) or st.st_uid != os.geteuid() \
                    or time.time() - st.st_ctime < min_age:
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a live grader's
        try:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
        finally:
            os.close(fd)
    return removed


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
