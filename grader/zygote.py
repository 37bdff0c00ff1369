"""Prepared children: a process that has imported numpy and torch once, and forks each sandboxed child from there.

A child started fresh (`python -I -S child.py`) spends about 2 s of CPU importing numpy and torch before its cells
have run (the notebook's `import torch`): about 15% of a grade, whose graded trainings take 9.5 s. Forked from a
process that already holds them, a child starts in milliseconds and is otherwise the same child: the same
interpreter and flags, the same environment, folders, descriptors, session and confinement, then hw8core/child.py
run as __main__.

Three processes, so that no run's data ever enters the long-lived one:
- the zygote (this file, run by grader/prepared.py as `python -I -S zygote.py FD CONFINE SITE_PACKAGES ROOM`)
  imports numpy, torch and grader/confine.py, makes itself undumpable (no process of its uid may read or write its
  memory through /proc or ptrace), says "ready" and waits on its socket. For each "go" it forks, and waits for
  that fork to exit;
- the fork reads the run's request (its folders, environment, confinement and descriptors), forks the child,
  tells the zygote the child's pid and exits. The child, orphaned, is re-parented to the grader (its child
  subreaper), which waits for it as for any child of its own;
- the child takes its descriptors, session, folder and environment, applies the confinement exactly as the fresh
  child's preexec_fn does, and runs child.py.

What the zygote holds is numpy, torch and this code: nothing of a run, nothing of the solutions, and it reads
nothing after it starts. A child cannot reach it: it is not the child's descendant, it is undumpable, and the
confinement refuses ptrace and process_vm_* (seccomp), other processes' /proc and signals outside the child's
domain (Landlock). A zygote that is gone or silent costs only speed: grader.sandbox starts that child fresh.

/proc/PID/environ shows the memory of the environment a process started with, and grader/processes.py finds a
run's processes by the token in it. The zygote starts with a placeholder (PAD) there, and each child writes its own
environment over it, so that the child's /proc/PID/environ carries its token as a fresh child's would.
"""
import json
import os
import socket
import struct
import sys

PAD_NAME = "HW8_ENVIRON_SPACE"
PAD_BYTES = 16384  # the room a child's environment may take in /proc/PID/environ (the sandbox's is about 600 bytes)
ARGV_PAD_BYTES = 4096  # and its arguments in /proc/PID/cmdline (python -I -S child.py WORKDIR 3 4)
MAX_REQUEST = 1 << 20
_PR_SET_DUMPABLE = 4


def _prctl(option, value):
    import ctypes
    return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _zygote(sock_fd, confine_path, site_packages):
    for path in site_packages:
        if path not in sys.path:
            sys.path.append(path)
    import importlib.util
    spec = importlib.util.spec_from_file_location("hw8_confine", confine_path)
    confine = importlib.util.module_from_spec(spec)
    sys.modules["hw8_confine"] = confine
    spec.loader.exec_module(confine)
    import numpy  # noqa: F401 - what a child imports first
    try:
        import torch  # noqa: F401 - and what the notebook imports
    except ImportError:
        pass
    try:
        import pyseccomp  # noqa: F401 - the confinement's
    except ImportError:
        pass
    _prctl(_PR_SET_DUMPABLE, 0)
    script_dir = os.path.dirname(os.path.abspath(__file__))
    sock = socket.socket(fileno=sock_fd)
    try:
        # The grader uses a zygote only once it has imported everything, and only for children whose address-space
        # cap leaves room beyond the zygote's (a child starts with all of it: the CUDA build of torch maps 3.2 GB).
        sock.send(b"ready %d" % _vm_size())
    except OSError:
        os._exit(0)
    while True:
        try:
            go = sock.recv(16)
        except OSError:
            go = b""
        if go != b"go":
            os._exit(0)  # the grader is gone (or spoke nonsense): so is the zygote
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            child = _between(sock, w, confine, script_dir)
            if child is not None:
                return child  # in the child: run child.py
            os._exit(0)
        os.close(w)
        data = b""
        try:
            while len(data) < 8:
                chunk = os.read(r, 8 - len(data))
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(r)
        os.waitpid(pid, 0)
        try:
            sock.send(data if len(data) == 8 else struct.pack("q", -1))
        except OSError:
            os._exit(0)


def _vm_size():
    """This process's address space in bytes (VmSize), or 2**62 if unknown: then no child is forked from it."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 2 ** 62


def _between(sock, pid_w, confine, script_dir):
    """The fork between the zygote and the child: reads the request, forks the child, reports its pid."""
    try:
        msg, fds, _flags, _addr = socket.recv_fds(sock, MAX_REQUEST, 8)
        request = json.loads(msg.decode("utf-8"))
        confinement = confine.Confinement(**request["confinement"])
        # The grader's own decisions (tests switch a layer's machinery off there): Landlock's ABI, and whether a
        # seccomp filter could be built, with the reasons it reports.
        decided = request["decided"]
        confinement._abi, confinement._abi_why = decided["abi"], decided["abi_why"]
        if not decided["seccomp"]:
            confinement._filter, confinement._seccomp_why = None, decided["seccomp_why"]
    except Exception:
        os.write(pid_w, struct.pack("q", -1))
        return None
    pid = os.fork()
    if pid == 0:
        sock.close()
        os.close(pid_w)
        return _become_child(request, fds, confinement, script_dir)
    for fd in fds:
        os.close(fd)
    os.write(pid_w, struct.pack("q", pid))
    return None


def _become_child(request, fds, confinement, script_dir):
    """Turn this fork into the child grader.sandbox would have started: (child.py's path, its argv)."""
    try:
        # Above every number the child will use, then onto them: stdin, stdout, stderr, control (and ack).
        moved = [_fcntl_dup(fd) for fd in fds]
        out, control, status, *ack = moved
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        keep = {0, 1, 2, status}
        targets = [3] + ([4] if ack else [])
        for src, dst in zip([control, *ack], targets):
            os.dup2(src, dst)  # inheritable, as pass_fds leaves them
            keep.add(dst)
        for fd in _open_fds():
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.setsid()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _rewrite(50, 51, b"".join(f"{k}={v}".encode() + b"\0" for k, v in request["env"].items()), PAD_NAME.encode())
        _rewrite(48, 49, b"".join(a.encode() + b"\0" for a in [sys.executable, "-I", "-S", *request["argv"]]),
                 b"." * 64)
        import tempfile
        tempfile.tempdir = None  # tempfile's folder follows TMPDIR, as in a fresh process
        confinement.preexec(status)
        # Dumpable, as a fresh child is after its exec: the grader (a TA's uid, without --user) reads its
        # /proc/PID/environ for the token, and its /proc/PID is its own uid's (a change of uid had cleared it).
        _prctl(_PR_SET_DUMPABLE, 1)
        os.close(status)
    except BaseException:
        os._exit(127)  # never run a submission half-confined
    argv = request["argv"]
    if sys.path and sys.path[0] == script_dir:  # Python 3.10's -I puts the script's folder first
        sys.path[0] = os.path.dirname(argv[0])
    sys.argv = list(argv)
    return argv[0]


def _fcntl_dup(fd):
    import fcntl
    new = fcntl.fcntl(fd, fcntl.F_DUPFD, 64)
    os.close(fd)
    return new


def _open_fds():
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 1024))


def _rewrite(start_field, end_field, block, mark):
    """Write block over one of the zygote's first areas, where /proc/PID reads it: its environment (environ, which
    processes.carries_token reads) or its arguments (cmdline). start_field and end_field are proc(5)'s numbers of
    /proc/self/stat's fields: env_start 50 and env_end 51, arg_start 48 and arg_end 49."""
    import ctypes
    with open("/proc/self/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    start, end = int(fields[start_field - 3]), int(fields[end_field - 3])  # fields[0] is field 3, state
    if len(block) > end - start or mark not in ctypes.string_at(start, end - start):
        raise OSError("the zygote's first environment or arguments have no room for the child's")
    ctypes.memmove(start, block + b"\0" * (end - start - len(block)), end - start)


if __name__ == "__main__":
    script = _zygote(int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]))  # sys.argv[4]: room (ARGV_PAD_BYTES)
    del _zygote, _between, _become_child
    import runpy
    runpy.run_path(script, run_name="__main__")
