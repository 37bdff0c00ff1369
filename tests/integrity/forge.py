# Shared by the answer-file attacks: forge a probe's answer files, then its probe_done event on the
# control pipe. The child's arguments (/proc/self/cmdline) after child.py: its work folder, the control pipe's fd,
# then the fd of the grader's acks.
import json as _json
import os as _os


def _child_args():
    """[work folder, control fd, ...]: the arguments after child.py."""
    with open("/proc/self/cmdline", "rb") as f:
        args = f.read().split(b"\0")[:-1]
    return args[next(i for i, a in enumerate(args) if a.endswith(b"child.py")) + 1:]


def _probes_of(fn):
    workdir = _child_args()[0].decode()
    with open(workdir + "/job.json") as f:
        return workdir, [p["id"] for p in _json.load(f)["probes"] if p["fn"] == fn]


_calls = {}


def _current_probe(fn):
    """The probe this call answers: the probes of fn run in order, one call each."""
    workdir, ids = _probes_of(fn)
    n = _calls[fn] = _calls.get(fn, -1) + 1
    return workdir, ids[min(n, len(ids) - 1)]


def _send_done_and_wait(pid):
    """Say the probe is done, then give the grader time to read the forged files before this call returns
    (after which the child writes the real answer over them)."""
    import time
    _send({"event": "probe_done", "probe": pid})
    time.sleep(1.0)


def _send(event):
    fd = int(_child_args()[1])
    _os.write(fd, (_json.dumps(event) + "\n").encode())


def _forge_answer(workdir, pid, count, make_bin):
    layout = {"a0": {"dtype": "|u1", "shape": [count], "offset": 0}}
    with open(f"{workdir}/out/{pid}.json", "w") as f:
        _json.dump({"id": pid, "result": {"t": "ndarray", "ref": "a0"}, "args_after": [], "kwargs_after": {},
                    "arrays": layout, "seconds": 0.0}, f)
    try:
        _os.unlink(f"{workdir}/out/{pid}.bin")
    except OSError:
        pass
    make_bin(f"{workdir}/out/{pid}.bin")
