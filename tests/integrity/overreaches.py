# expect: {"1": 10, "2": 10, "3": 15} message: "overreach: chmod refused; prlimit refused; shadow refused; unix refused"
# What Landlock does not cover (found by a review): a file's mode, another process's limits, a Unix socket of the
# machine's by its path; and what uid 0 reads (/etc/shadow). TARGET is a file of the test's, SOCKET its listener.
import os as _os
import resource as _resource
import socket as _socket


def _try(action):
    try:
        action()
        return "allowed"
    except OSError:
        return "refused"


_got = {
    "chmod": _try(lambda: _os.chmod(TARGET, 0o777)),
    "prlimit": _try(lambda: _resource.prlimit(_os.getppid(), _resource.RLIMIT_CORE,
                                              _resource.prlimit(_os.getppid(), _resource.RLIMIT_CORE))),
    "shadow": _try(lambda: open("/etc/shadow").read(1)),
    "unix": _try(lambda: _socket.socket(_socket.AF_UNIX).connect(SOCKET)),
}
raise RuntimeError("overreach: " + "; ".join(f"{k} {v}" for k, v in _got.items()))
