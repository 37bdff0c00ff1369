"""Confine a submission's child process on Linux: every layer an unprivileged process may put on itself, and the uid.

The layers, applied in the forked child before it execs Python (`Confinement.preexec`), in this order:

- rlimits: address space, file size, core dumps, open files, processes;
- uid: with root and a sandbox user, the child drops to that user (setgroups, setgid, setuid);
- no_new_privs: neither a setuid binary nor a file capability gives the child more than it has;
- Landlock (ABI 1 or newer): the child may read and execute the Python installation, the system's libraries
  and its own run folder, and write only the writable folders inside it (cwd, out, tmp, mpl). With ABI 4 it
  may neither bind nor connect TCP; with ABI 6 it may not signal a process outside its own domain (the
  grader, the TA's other processes) nor connect to an abstract Unix socket outside it. Its own /proc/PID is
  readable except /proc/PID/net (the machine's sockets). Folders that hold the solutions (`secrets`) are cut
  out of every allowed folder that contains them.
- seccomp (libseccomp through pyseccomp): no socket of any family but AF_UNIX, no io_uring (whose requests
  open sockets without socket()), no ptrace or process_vm_*, no System V IPC or POSIX message queues, no
  bpf, perf_event_open, userfaultfd, keyctl, mount, namespaces, kexec or module loading. Calls of other
  architectures (int 0x80) kill the process (libseccomp's default for a foreign ABI).

Why these libraries: the kernel's Landlock interface is three syscalls whose structs grow with the ABI
(handled_access_net at ABI 4, scoped at ABI 6); the one Python binding on the package index (`landlock`
1.0.0.dev5, alpha) speaks only the filesystem part and reads a stale errno after successful calls, so the
syscalls are made here directly (about 60 lines, each checked against the kernel's uapi header). seccomp
is a BPF program, which libseccomp (on every Debian and Ubuntu image; systemd depends on it) compiles for
the running architecture; pyseccomp is its ctypes binding, API-compatible with libseccomp's own.

One file on purpose (about 380 lines): a reviewer reads every layer, and the order they go on in, in one sitting.

Each layer records whether it applied, and why not (`Confinement.layers`): the child writes one line per
layer to a pipe that closes when it execs, before any student code exists. Nothing here runs on Windows
or macOS (grader.sandbox is Linux-only; the student kit has its own portable runner).
"""
from __future__ import annotations

import ctypes
import errno
import os
import resource
import select
import sys
import time
from dataclasses import dataclass, field

LAYERS = ("rlimits", "uid", "no_new_privs", "landlock", "seccomp")

# <linux/landlock.h>
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # the same numbers on every architecture
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH, _RULE_NET_PORT = 1, 2
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ABI1 = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_ONLY = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_PR_SET_NO_NEW_PRIVS = 38

READ = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR

# Folders every Python needs to start and import numpy and torch: its libraries, its configuration
# (/etc/ld.so.cache, /etc/localtime ...), CPU facts (/sys/devices/system/cpu).
SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/sys", "/proc/cpuinfo",
               "/proc/meminfo", "/proc/stat", "/proc/sys/kernel", "/proc/sys/vm/overcommit_memory",
               # Of /etc only what a Python, numpy, torch and matplotlib read: never /etc/shadow or ssh's keys
               "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
               "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/hosts", "/etc/host.conf", "/etc/gai.conf",
               "/etc/protocols", "/etc/services", "/etc/mime.types", "/etc/ssl", "/etc/ca-certificates",
               "/etc/fonts", "/etc/os-release", "/etc/debian_version", "/etc/lsb-release", "/etc/matplotlibrc",
               "/etc/python3", "/etc/xdg/matplotlib")
DEVICES_RW = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
SECCOMP_DENIED = ("ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup", "io_uring_enter",
                  "io_uring_register", "shmget", "semget", "msgget", "mq_open", "bpf", "perf_event_open",
                  "userfaultfd", "keyctl", "add_key", "request_key", "mount", "umount2", "pivot_root", "unshare",
                  "setns", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
                  "open_by_handle_at", "name_to_handle_at", "fanotify_init", "acct", "swapon", "swapoff",
                  "reboot", "syslog", "quotactl",
                  # the new mount API, and what only a machine's owner does
                  "open_tree", "fsopen", "fsmount", "fsconfig", "fspick", "move_mount", "mount_setattr", "chroot",
                  "sethostname", "setdomainname", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
                  "iopl", "ioperm",
                  # Landlock does not cover a file's mode, owner, extended attributes or times: none changes, even
                  # in the run folder (a setuid bit or a file capability on a file of the TA's or root's)
                  "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat", "setxattr",
                  "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "setxattrat",
                  "removexattrat", "utime", "utimes", "utimensat", "futimesat",
                  # other processes of the same uid, by pid or by file descriptor
                  "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "process_madvise", "kcmp",
                  # a Unix socket may talk only to what it was made with (socketpair): ABI 7's Landlock does not
                  # cover connecting to a socket file (the Docker socket, D-Bus)
                  "connect", "sendmsg", "sendmmsg")
# Calls that name another process by pid in their first argument (setpriority and ioprio_set: their second):
# only the child's own (0) is allowed, so it cannot lower the grader's or a classmate's limits or priority.
SECCOMP_SELF_ONLY = {"prlimit64": 0, "sched_setaffinity": 0, "sched_setscheduler": 0, "sched_setparam": 0,
                     "sched_setattr": 0, "migrate_pages": 0, "move_pages": 0, "setpriority": 1, "ioprio_set": 1}
_CLONE_NEW = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)  # NS CGROUP UTS IPC
# USER PID NET: namespaces by clone's flags (unshare and setns are refused above)
_S_IFMT, _S_IFCHR, _S_IFBLK = 0o170000, 0o020000, 0o060000
_AF_UNIX, _AF_MAX = 1, 64


@dataclass
class Layer:
    name: str
    applied: bool
    detail: str = ""

    def as_dict(self):
        return {"applied": self.applied, "detail": self.detail}


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi():
    """The kernel's Landlock ABI version, or 0 with the reason it is unavailable."""
    if not sys.platform.startswith("linux"):
        return 0, f"Landlock is Linux's; this is {sys.platform}"
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    ctypes.set_errno(0)
    abi = libc.syscall(ctypes.c_long(_SYS_CREATE_RULESET), None, ctypes.c_size_t(0),
                       ctypes.c_uint32(_CREATE_RULESET_VERSION))
    if abi < 0:
        err = ctypes.get_errno()
        why = {errno.ENOSYS: "the kernel has no Landlock (older than 5.13, or built without it)",
               errno.EOPNOTSUPP: "Landlock is disabled at boot (not in the kernel's lsm= list)",
               errno.EPERM: "a container's seccomp policy forbids Landlock"}.get(err, os.strerror(err))
        return 0, why
    return int(abi), ""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1  # struct landlock_path_beneath_attr is packed: 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _fs_rights(abi):
    rights = _FS_ABI1
    if abi >= 2:
        rights |= _FS_REFER
    if abi >= 3:
        rights |= _FS_TRUNCATE
    if abi >= 5:
        rights |= _FS_IOCTL_DEV
    return rights


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


@dataclass
class Confinement:
    """What one child may touch. Build it in the parent; call `preexec()` in the forked child (subprocess's
    preexec_fn), then `read_report(fd)` in the parent once Popen has returned."""
    memory_bytes: int
    file_bytes: int
    read: list  # folders and files the child may read (and execute)
    write: list  # folders the child may write
    secrets: list = field(default_factory=list)  # never readable, even inside an allowed folder
    uid: int = None
    gid: int = None
    layers: tuple = LAYERS  # the layers to apply (tests switch one off to show what it stops)
    max_processes: int = 256
    max_open_files: int = 1024

    def __post_init__(self):
        self.secrets = [os.path.realpath(s) for s in self.secrets]
        self._abi, self._abi_why = landlock_abi() if "landlock" in self.layers else (0, "switched off")
        self._seccomp_why = ""
        self._filter = None
        if "seccomp" in self.layers:
            self._filter = self._build_filter()
        self._status = None

    # ---- seccomp, compiled in the parent (libseccomp allocates; the child only loads it)
    def _build_filter(self):
        try:
            import pyseccomp as seccomp
        except ImportError:
            self._seccomp_why = "pyseccomp is not installed"
            return None
        try:
            f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
            for family in range(_AF_MAX):
                if family != _AF_UNIX:  # an int: compare the low 32 bits, as the kernel reads it
                    f.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.MASKED_EQ, 0xFFFFFFFF, family))
            deny = seccomp.ERRNO(errno.EPERM)
            rules = [(deny, name) for name in SECCOMP_DENIED]
            rules += [(deny, name, seccomp.Arg(arg, seccomp.NE, 0)) for name, arg in SECCOMP_SELF_ONLY.items()]
            rules += [(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag)) for flag in _CLONE_NEW]
            rules.append((seccomp.ERRNO(errno.ENOSYS), "clone3"))  # its flags are in memory: glibc falls back to clone
            rules += [(deny, "sendto", seccomp.Arg(4, seccomp.NE, 0))]  # an address: a socket file of the machine's
            for name, arg in (("mknod", 1), ("mknodat", 2)):  # FIFOs yes, devices no
                rules += [(deny, name, seccomp.Arg(arg, seccomp.MASKED_EQ, _S_IFMT, kind)) for kind in (_S_IFCHR, _S_IFBLK)]
            for action, name, *args in rules:
                try:
                    f.add_rule(action, name, *args)
                except (ValueError, OSError, RuntimeError):
                    pass  # not a syscall on this architecture or this libseccomp
            return f
        except Exception as exc:  # libseccomp missing or too old
            self._seccomp_why = f"libseccomp is unavailable: {exc}"[:200]
            return None

    # ---- the child's half: runs between fork and exec, as few Python objects as possible
    def preexec(self, status_fd):
        lines = []

        def note(name, ok, detail=""):
            lines.append(f"{name}\t{1 if ok else 0}\t{detail}".replace("\n", " ")[:300])

        if "rlimits" in self.layers:
            try:
                resource.setrlimit(resource.RLIMIT_AS, (self.memory_bytes, self.memory_bytes))
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
                resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_bytes, self.file_bytes))
                resource.setrlimit(resource.RLIMIT_NOFILE, (self.max_open_files, self.max_open_files))
                # RLIMIT_NPROC counts every process of the uid: the sandbox user's own, or the TA's (then what
                # is running now, plus the allowance). Root ignores it; the uid layer is root's.
                nproc = self.max_processes if self.uid is not None else _processes_of(os.getuid()) + self.max_processes
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
                # The same words at every run (the report is part of results.json, which tests compare run to run)
                room = (f"{self.max_processes} processes" if self.uid is not None
                        else f"{self.max_processes} processes beyond the uid's own")
                note("rlimits", True, f"address space {self.memory_bytes >> 20} MiB, files {self.file_bytes >> 20} MiB, "
                                      f"{self.max_open_files} open files, {room}, no core dumps")
            except (OSError, ValueError) as exc:
                note("rlimits", False, str(exc))
        else:
            note("rlimits", False, "switched off")
        ruleset = self._ruleset() if self._abi else None  # opened as root: paths the sandbox user may not list
        if self.uid is not None and "uid" in self.layers:
            try:
                os.setgroups([])
                os.setgid(self.gid)
                os.setuid(self.uid)
                note("uid", True, f"uid {self.uid}")
            except OSError as exc:
                note("uid", False, str(exc))
                _report(status_fd, lines)
                raise  # never run a submission as root by accident
        elif "uid" not in self.layers:
            note("uid", False, "switched off")
        elif os.geteuid() == 0:
            dropped = _drop_capabilities()
            note("uid", False, "the grader is root and no --user was given: the submission runs as uid 0 "
                               + ("with every capability dropped" if dropped is True else f"WITH root's capabilities "
                                                                                        f"({dropped})"))
        else:
            note("uid", False, "the grader is not root: the submission runs as the grader's own user")
        try:
            if _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
            note("no_new_privs", True)
        except OSError as exc:
            note("no_new_privs", False, str(exc))
        if ruleset is not None:
            fd, detail = ruleset
            libc = _libc()
            ctypes.set_errno(0)
            if libc.syscall(ctypes.c_long(_SYS_RESTRICT_SELF), ctypes.c_int(fd), ctypes.c_uint32(0)) == 0:
                note("landlock", True, detail)
            else:
                note("landlock", False, f"landlock_restrict_self: {os.strerror(ctypes.get_errno())}")
            os.close(fd)
        else:
            note("landlock", False, self._abi_why or "the ruleset could not be built")
        if self._filter is not None:
            try:
                self._filter.load()
                note("seccomp", True, "no network sockets or Unix connects, ptrace, io_uring, System V IPC, bpf, mount, "
                                      "namespaces, file modes or owners, or other processes' limits")
            except Exception as exc:
                note("seccomp", False, f"seccomp_load: {exc}")
        else:
            note("seccomp", False, self._seccomp_why or "switched off")
        _report(status_fd, lines)

    def _ruleset(self):
        """A Landlock ruleset fd for this child, and what it holds; None when it cannot be built."""
        abi, libc = self._abi, _libc()
        libc.syscall.restype = ctypes.c_long
        attr = _RulesetAttr(_fs_rights(abi), (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                            (_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0)
        size = 8 if abi < 4 else 16 if abi < 6 else 24
        ctypes.set_errno(0)
        fd = libc.syscall(ctypes.c_long(_SYS_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(size),
                          ctypes.c_uint32(0))
        if fd < 0:
            self._abi_why = f"landlock_create_ruleset: {os.strerror(ctypes.get_errno())}"
            return None
        all_fs = _fs_rights(abi)
        pid = os.getpid()
        # Its own /proc/PID, but not net/ (the machine's sockets) nor the links root, cwd and exe (a rule on a
        # link would be a rule on its target: root is "/").
        own_proc = _proc_entries(f"/proc/{pid}")
        for tid in _listdir(f"/proc/{pid}/task"):  # task/TID holds a net/ of its own
            own_proc += _proc_entries(f"/proc/{pid}/task/{tid}")
        for path in [*self.read, *SYSTEM_READ, *own_proc]:
            self._allow(libc, fd, path, READ)
        for path in DEVICES_RW:
            self._allow(libc, fd, path, _FS_READ_FILE | _FS_WRITE_FILE)
        for path in self.write:
            self._allow(libc, fd, path, all_fs)
        parts = ["filesystem"]
        if abi >= 4:
            parts.append("no TCP")
        if abi >= 6:
            parts.append("no signals or abstract sockets outside")
        return fd, f"ABI {abi}: " + ", ".join(parts)

    def _allow(self, libc, ruleset_fd, path, rights):
        """Allow `rights` beneath path; where a secret lies inside it, allow each entry beside the way to it."""
        real = os.path.realpath(path)
        if any(_inside(real, s) for s in self.secrets):
            return
        if any(_inside(s, real) and s != real for s in self.secrets):
            for name in _listdir(real):
                self._allow(libc, ruleset_fd, os.path.join(real, name), rights)
            return
        try:
            target = os.open(real, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return  # absent on this machine
        try:
            if not os.path.isdir(real):
                rights &= _FILE_ONLY
            rule = _PathBeneath(rights, target)
            libc.syscall(ctypes.c_long(_SYS_ADD_RULE), ctypes.c_int(ruleset_fd), ctypes.c_int(_RULE_PATH_BENEATH),
                         ctypes.byref(rule), ctypes.c_uint32(0))
        finally:
            os.close(target)

    # ---- the parent's half
    def read_report(self, fd, wait=0.0):
        """The child's layer lines (at most 8 KiB, from a pipe that closed when it exec'd, or, `wait` > 0, that it
        closes within that many seconds): {name: Layer}."""
        data = b""
        deadline = time.monotonic() + wait
        try:
            os.set_blocking(fd, False)
            while len(data) < 8192:
                if wait > 0:
                    left = deadline - time.monotonic()
                    if left <= 0 or not select.select([fd], [], [], left)[0]:
                        break
                chunk = os.read(fd, 8192 - len(data))
                if not chunk:
                    break
                data += chunk
        except (BlockingIOError, OSError):
            pass
        found = {}
        for line in data.decode("utf-8", "replace").splitlines():
            name, _, rest = line.partition("\t")
            ok, _, detail = rest.partition("\t")
            if name in LAYERS:
                found[name] = Layer(name, ok == "1", detail)
        self._status = {name: found.get(name, Layer(name, False, "not reported")) for name in LAYERS}
        return self._status


_PR_CAPBSET_DROP, _PR_SET_SECUREBITS = 24, 28
_SECURE_NOROOT_ALL = 0x3F  # NOROOT, NO_SETUID_FIXUP, KEEP_CAPS, each with its lock: exec as uid 0 gains nothing


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities():
    """Make uid 0 an ordinary uid for this process and what it execs: securebits locked so that exec grants no
    capability, the bounding set emptied, then every capability given up. True, or why not."""
    libc = _libc()
    try:
        if libc.prctl(_PR_SET_SECUREBITS, _SECURE_NOROOT_ALL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_SECUREBITS")
        for cap in range(64):
            if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                if ctypes.get_errno() == errno.EINVAL:
                    break  # past the kernel's last capability
                raise OSError(ctypes.get_errno(), "PR_CAPBSET_DROP")
        data = (_CapData * 2)()
        if libc.capset(ctypes.byref(_CapHeader(0x20080522, 0)), data) != 0:  # _LINUX_CAPABILITY_VERSION_3
            raise OSError(ctypes.get_errno(), "capset")
        return True
    except OSError as exc:
        return f"{exc.strerror}: {os.strerror(exc.errno)}" if exc.errno else str(exc)


def _report(fd, lines):
    data = ("\n".join(lines) + "\n").encode("utf-8", "replace")
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass


def _listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


def _proc_entries(folder):
    """The entries of a /proc/PID (or task/TID) folder but net/ and task/, and no links."""
    return [path for path in (f"{folder}/{name}" for name in _listdir(folder) if name not in ("net", "task"))
            if not os.path.islink(path)]


def _processes_of(uid):
    count = 0
    for name in _listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def summary(layers):
    """One line for the grader's log: which layers applied."""
    return "; ".join(f"{name} {'applied' if layer.applied else 'NOT applied'}"
                     + (f" ({layer.detail})" if layer.detail else "") for name, layer in layers.items())


def confined(layers):
    """Whether any layer beyond the rlimits confines the child (what `batch` requires unless told otherwise)."""
    return any(layers[name].applied for name in ("uid", "landlock", "seccomp") if name in layers)


def seccomp_available():
    """Whether a seccomp filter can be built here (pyseccomp and libseccomp); (bool, why not)."""
    try:
        import pyseccomp
        pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
        return True, ""
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"[:200]


def available_layers(limits=None):
    """The layers beyond rlimits that a run with these limits would get on this machine, before any child runs."""
    asked = set(LAYERS if limits is None or limits.layers is None else limits.layers)
    found = []
    if "uid" in asked and limits is not None and limits.user and os.geteuid() == 0:
        found.append("uid")
    if "landlock" in asked and landlock_abi()[0]:
        found.append("landlock")
    if "seccomp" in asked and seccomp_available()[0]:
        found.append("seccomp")
    return found
