# expect: {"1": 10, "2": 10, "3": 15} message: "Graded hw8.py"
# Leaves files in every shared folder it can write, and a System V shared memory segment of 1 MiB,
# each named with TOKEN so that the test finds its own.
import ctypes as _ctypes
for _folder in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
    try:
        with open(f"{_folder}/hw8-leak-TOKEN", "w") as _f:
            _f.write("left behind")
    except OSError:
        pass
_libc = _ctypes.CDLL(None, use_errno=True)
_libc.shmget(TOKEN, 2 ** 20, 0o1000 | 0o666)  # IPC_CREAT, the key is the token
