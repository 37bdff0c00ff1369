"""What a run may leave on the machine besides processes, and its removal: files in the shared folders, System V
IPC objects, and the run folders of graders that were killed (which hold a student's code).

Linux-specific (/proc/sysvipc, flock). Everything here is found without following a link: entries are judged by
lstat, and removed with hw8core.supervisor.remove_tree (rmtree, which walks by file descriptor, and at
any depth). grader.sandbox decides what to remove when.
"""
import fcntl
import os
import stat
import time

from hw8core.supervisor import remove_tree

SHARED_ROOTS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/dev/mqueue")
OWN_PREFIXES = ("hw8-run-", "hw8-batch-")  # the graders' own folders: a stale one is remove_stale_runs' to judge


def _remove_entry(entry):
    """Remove one directory entry without following it (rmtree walks by file descriptor on Linux)."""
    if entry.is_dir(follow_symlinks=False):
        remove_tree(entry.path)
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
            remove_tree(entry.path)
            removed.append(entry.path)
        finally:
            os.close(fd)
    return removed


# How many files and folders a run's writable folders may hold (Limits.disk_bytes bounds their bytes). The example's
# run folder peaks at 529 entries and 13.8 MiB (answers, inputs, the font list; polled every 50 ms through a seed-0
# grade), so 20000 is far past any notebook that saves a few plots or checkpoints. Past it, counting stops: a run
# that made a million empty files is judged without listing them all.
MAX_RUN_ENTRIES = 20000
MAX_OPEN_FILES = 4096  # open descriptors looked at per process (RLIMIT_NOFILE is 1024 in the sandbox)


def disk_use(folders, pids=(), max_entries=MAX_RUN_ENTRIES):
    """(bytes, entries, unreadable) that a run holds on disk: the allocated blocks of everything under `folders`
    (never following a link; a sparse file counts what it allocated), and of the files the processes `pids` hold open
    after removing their names (invisible in any folder, yet on disk until closed). Counting stops past max_entries.
    `unreadable` names a folder that could not be listed: its contents are unknown."""
    used = entries = 0
    unreadable = None
    stack = [os.fspath(f) for f in folders]
    while stack and entries <= max_entries:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    entries += 1
                    if entries > max_entries:
                        break
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue  # removed since it was listed
                    used += st.st_blocks * 512
                    if stat.S_ISDIR(st.st_mode):
                        stack.append(entry.path)
        except PermissionError:  # a folder made without read permission (mkdir mode 0o300): its contents are hidden
            unreadable = folder
        except OSError:  # gone, or no longer a folder, since it was listed: the child is writing there now
            continue
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{int(pid)}/fd")
        except OSError:
            continue
        for fd in fds[:MAX_OPEN_FILES]:
            try:
                st = os.stat(f"/proc/{int(pid)}/fd/{fd}")  # the open file itself, whatever its name became
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_nlink == 0:
                used += st.st_blocks * 512
    return used, entries, unreadable


def clear_folder(path, keep=()):
    """Remove everything inside the folder path except the names in `keep` (the folder itself stays)."""
    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        if entry.name not in keep:
            try:
                _remove_entry(entry)
            except OSError:
                continue
