"""The grader's side of prepared children (grader/zygote.py): one zygote per grading process, asked for each child.

`spawn` returns the pid of a child forked from the zygote, or None, and then grader.sandbox starts the child fresh as
before: while the zygote is not ready, when it is gone or does not answer within SPAWN_SECONDS, or when it is not
wanted (no child subreaper to adopt its children, too little memory for it beside the children, or a cap under twice
its address space). Every read of the zygote is bounded in time and bytes; the zygote is the grader's own code, but
a child of the same uid might have stopped it.
"""
from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
from dataclasses import fields
from pathlib import Path

from .processes import is_subreaper, live_child
from .zygote import ARGV_PAD_BYTES, PAD_BYTES, PAD_NAME

ZYGOTE = Path(__file__).with_name("zygote.py")
CONFINE = Path(__file__).with_name("confine.py")
SPAWN_SECONDS = 10.0  # a fork and its reply take milliseconds (0.14 s for a whole grade of sections 1-2 here)
# What the zygote holds: numpy and torch imported, 223 MiB resident here (146 MiB of it anonymous, which children
# share copy-on-write). It runs only where the machine has this much free beside the children's whole caps.
ZYGOTE_BYTES = 256 * 2 ** 20
MAX_FAILURES = 3  # after these many, this process starts its children fresh


class Forked:
    """What grader.sandbox uses of a Popen, for a child the zygote forked and the kernel gave us (the subreaper)."""

    def __init__(self, pid, stdout_fd):
        self.pid = pid
        self.stdout = open(stdout_fd, "rb", buffering=0)
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: gone, its status unknown
                self.returncode = -9
                return self.returncode
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout=None):
        import time
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.005)
        return self.returncode


class Zygote:
    """One zygote for this process. It starts when a child is asked for after another has ended (a restart, the next
    run of a batch or of the tests): a one-shot run, whose children all start at once, never pays for it. It serves
    from the moment it says it is ready; a child asked for before that starts fresh, so no run ever waits for the
    zygote's own imports (the CUDA build of torch: 41 s from a cold disk here)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc = None
        self.sock = None
        self.key = None
        self.ready = False
        self.vm_bytes = 2 ** 62  # the zygote's address space, as it said when ready
        self.ended = 0  # children of this process that have ended
        self.failures = 0

    def spawn(self, key_env, site_packages, confinement, request, fds):
        """A child forked from the zygote for this interpreter, site-packages and constant environment (`key_env`):
        its pid; or None, and the child starts fresh. `fds`: stdout, control, status, then ack if any."""
        with self.lock:
            if self.failures >= MAX_FAILURES or not is_subreaper():
                return None
            key = (sys.executable, tuple(site_packages), tuple(sorted(key_env.items())))
            if self.proc is None or self.proc.poll() is not None or key != self.key:
                self._stop()
                if self.ended:
                    self._start(key, key_env, site_packages)
                return None
            if not self._is_ready(0.0):
                return None
            if confinement.memory_bytes and 2 * self.vm_bytes > confinement.memory_bytes:
                return None  # a child would start with the zygote's address space: at most half its cap
            pid = self._exchange(confinement, request, fds)
            if pid is None:
                self.failures += 1
                self._stop()  # gone or silent: a new one is started at the next child
            return pid

    def failed(self):
        """A child it forked could not become the run's child (grader.sandbox): counted, and a new zygote next time."""
        with self.lock:
            self.failures += 1
            self._stop()

    def child_ended(self):
        with self.lock:
            self.ended += 1

    def wait_ready(self, seconds):
        """Whether the zygote is ready, waiting at most `seconds` for one that is starting."""
        with self.lock:
            return self.proc is not None and self._is_ready(seconds)

    def _is_ready(self, wait):
        if not self.ready:
            try:
                self.sock.settimeout(wait if wait > 0 else 0.0)  # 0.0: non-blocking
                said = self.sock.recv(64)
            except (BlockingIOError, socket.timeout):
                return False
            except OSError:
                said = b""
            word, _, size = said.partition(b" ")
            if word != b"ready" or not size.isdigit():  # dead before it was ready
                self.failures += 1
                self._stop()
                return False
            self.ready, self.vm_bytes = True, int(size)
        return True

    def _exchange(self, confinement, request, fds):
        params = {f.name: getattr(confinement, f.name) for f in fields(confinement)}
        params["layers"] = list(params["layers"])
        decided = {"abi": confinement._abi, "abi_why": confinement._abi_why,
                   "seccomp": confinement._filter is not None, "seccomp_why": confinement._seccomp_why}
        message = json.dumps({**request, "confinement": params, "decided": decided}).encode("utf-8")
        try:
            self.sock.settimeout(SPAWN_SECONDS)
            self.sock.send(b"go")
            socket.send_fds(self.sock, [message], list(fds))
            reply = self.sock.recv(8)
        except OSError:
            return None
        pid = struct.unpack("q", reply)[0] if len(reply) == 8 else -1
        return pid if pid > 0 else None

    def _start(self, key, key_env, site_packages):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**key_env, PAD_NAME: "x" * PAD_BYTES}
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(ZYGOTE), str(theirs.fileno()), str(CONFINE), json.dumps(site_packages),
                 "." * ARGV_PAD_BYTES],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), env=env, start_new_session=True, cwd="/")
        except OSError:
            ours.close()
            self.failures += 1
            return
        finally:
            theirs.close()
        with live_child.lock:
            live_child.pids.add(self.proc.pid)  # ours for good: no run's clean-up kills or reaps it
        self.sock, self.key, self.ready = ours, key, False

    def _stop(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, 9)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            live_child.done(self.proc.pid)
            self.proc = None
        self.ready = False


ZYGOTE_OF_THIS_PROCESS = Zygote()


def zygote_pid():
    """The pid of this process's zygote while it runs, else None."""
    proc = ZYGOTE_OF_THIS_PROCESS.proc
    return proc.pid if proc is not None and proc.poll() is None else None
