"""The parent's half of the wire format between the scoring process and a child: plain data both ways.

Out: a Probe and its arguments (Tensor, TorchModule, StudentModule, ResultOf) as JSON plus arrays
(to_spec, probe_spec; back with from_spec, which the student kit uses for its stored probes).
In: the child's answer files as an Answer whose values are TensorValue, ModuleValue, ForeignValue or
plain Python and NumPy data (read_answer, decode). The child's half is hw8core/child.py, one
self-contained file; tests/test_wire.py round-trips every type through both halves.
"""
import errno
import json
import os
import stat
from dataclasses import dataclass, field

import numpy as np

from .child import ANSWER_KINDS, TORCH_MODULES

MAX_ANSWER_BYTES = 64 * 2 ** 20  # an answer's arrays (.bin): read as raw numbers, never parsed
# An answer's JSON is parsed into Python objects, about 25 times its size in memory (a 64 MiB one took the grader
# from 227 to 1635 MiB): 4 MiB. The reference's largest JSON answer is 5.3 KB (s5.train, measured on the example);
# a list at the child's own cap (MAX_ITEMS, 10,000 floats) encodes to about 0.4 MB.
MAX_ANSWER_JSON_BYTES = 4 * 2 ** 20


@dataclass
class Probe:
    """One call of a submission's function: which function, on which inputs (the arguments below)."""
    id: str
    section: int
    fn: str  # a name in the submission, or "@call": call args[0] with the remaining args
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    hidden: bool = True
    timeout: float = 30.0
    seed: int = None  # numpy, torch and random are seeded with it before the call
    role: str = None  # what the probe is for (probe_ids.ROLES): the checks select by it; never sent to the child


@dataclass
class Tensor:
    """An argument the child receives as a torch tensor."""
    array: np.ndarray


@dataclass
class TorchModule:
    """An argument the child builds as torch.nn.<cls>(**kwargs) with the given state_dict."""
    cls: str  # one of child.TORCH_MODULES
    kwargs: dict
    state: dict  # name -> np.ndarray (float32)

    def __post_init__(self):
        if self.cls not in TORCH_MODULES:
            raise ValueError(f"a probe may build only {TORCH_MODULES}, not {self.cls}")


@dataclass
class StudentModule:
    """An argument the child builds from the submission's own class, with the given state_dict."""
    cls: str  # CharRNN | Seq2Seq
    kwargs: dict
    state: dict


@dataclass
class ResultOf:
    """An argument the child takes from an earlier probe's result in the same run (index None: all of it),
    e.g. the model that the submission's own training returned."""
    probe: str
    index: int = None


@dataclass
class TensorValue:
    """A torch tensor the submission returned."""
    array: np.ndarray
    dtype: str  # e.g. "float32"
    requires_grad: bool = False


@dataclass
class ModuleValue:
    """A torch.nn.Module the submission returned: its class, its torch base, config and state."""
    cls: str
    torch_cls: str
    config: dict
    state: dict = field(default_factory=dict)  # name -> TensorValue
    children: dict = field(default_factory=dict)  # name -> ModuleValue


@dataclass
class ForeignValue:
    """Anything else: only its class name is known."""
    cls: str


def called(probe):
    """The submission's function a probe calls, as the student knows it: "srn_forward", "CharRNN.forward".

    "@call" calls its first argument (a model built from given weights, or a model the submission
    trained: sections 5 and 7 train CharRNN and Seq2Seq); "@each" calls the named function on many rows.
    """
    if probe.fn == "@call":
        target = probe.args[0]
        cls = target.cls if isinstance(target, (TorchModule, StudentModule)) else {5: "CharRNN", 7: "Seq2Seq"}.get(
            probe.section, "model")
        return f"{cls}.forward"
    if probe.fn == "@each":
        return str(probe.args[0])
    return probe.fn


def probe_spec(probe, arrays):
    """A probe as the child reads it: JSON, with its arrays put into `arrays`."""
    return {"id": probe.id, "fn": probe.fn, "seed": probe.seed,
            "args": [to_spec(a, arrays) for a in probe.args],
            "kwargs": {k: to_spec(v, arrays) for k, v in probe.kwargs.items()}}


def to_spec(value, arrays):
    """Encode a probe argument as JSON, putting its arrays into `arrays`."""
    def put(arr):
        key = f"i{len(arrays)}"
        arrays[key] = np.ascontiguousarray(arr)
        return key

    if isinstance(value, np.ndarray):
        return {"t": "ndarray", "ref": put(value)}
    if isinstance(value, Tensor):
        return {"t": "tensor", "ref": put(value.array)}
    if isinstance(value, (TorchModule, StudentModule)):
        return {"t": "torch_module" if isinstance(value, TorchModule) else "student_module",
                "cls": value.cls, "kwargs": value.kwargs,
                "state": {k: put(np.asarray(v, dtype=np.float32)) for k, v in value.state.items()}}
    if isinstance(value, ResultOf):
        return {"t": "result_of", "probe": value.probe, "index": value.index}
    if isinstance(value, tuple):
        return {"t": "tuple", "items": [to_spec(v, arrays) for v in value]}
    if isinstance(value, list) and any(isinstance(v, (np.ndarray, Tensor, ResultOf, TorchModule, StudentModule))
                                       for v in value):
        return {"t": "list", "items": [to_spec(v, arrays) for v in value]}
    if isinstance(value, dict) and any(isinstance(v, (np.ndarray, Tensor)) for v in value.values()):
        return {"t": "dict", "items": {k: to_spec(v, arrays) for k, v in value.items()}}
    return {"t": "json", "v": value}


def from_spec(spec, arrays):
    """A probe argument back from to_spec's JSON and arrays (the student kit stores its probes so)."""
    t = spec["t"]
    if t == "ndarray":
        return np.asarray(arrays[spec["ref"]])
    if t == "tensor":
        return Tensor(np.asarray(arrays[spec["ref"]]))
    if t in ("torch_module", "student_module"):
        cls = TorchModule if t == "torch_module" else StudentModule
        return cls(spec["cls"], dict(spec["kwargs"]), {k: np.asarray(arrays[ref]) for k, ref in spec["state"].items()})
    if t == "result_of":
        return ResultOf(spec["probe"], spec.get("index"))
    if t == "tuple":
        return tuple(from_spec(s, arrays) for s in spec["items"])
    if t == "list":
        return [from_spec(s, arrays) for s in spec["items"]]
    if t == "dict":
        return {k: from_spec(s, arrays) for k, s in spec["items"].items()}
    if t == "json":
        return spec["v"]
    raise ValueError(f"unknown argument kind {t!r}")


def stored_spec(probe, arrays):
    """A probe as the student kit stores it: probe_spec's JSON with its section, visibility, time limit and role."""
    return dict(probe_spec(probe, arrays), section=probe.section, hidden=probe.hidden, timeout=probe.timeout,
                role=probe.role)


def probe_from_spec(spec, arrays):
    """A Probe back from stored_spec's JSON."""
    return Probe(spec["id"], int(spec["section"]), spec["fn"], [from_spec(a, arrays) for a in spec["args"]],
                 {k: from_spec(v, arrays) for k, v in spec["kwargs"].items()}, bool(spec.get("hidden", False)),
                 float(spec["timeout"]), spec.get("seed"), spec.get("role"))


@dataclass
class Answer:
    status: str  # ok | error | timeout | crashed | not_run
    value: object = None
    args_after: list = None
    kwargs_after: dict = None
    error: dict = None
    seconds: float = 0.0
    message: str = ""
    nbytes: int = 0  # the bytes of its arrays, as read (Supervisor keeps a run's answers within MAX_RUN_ANSWER_BYTES)


class Unreadable(ValueError):
    """A file the child left that the grader will not read: not a regular file of this run, or too large."""


def read_child_file(folder, name, cap, owner=None):
    """The bytes of folder/name, a file the child wrote, read as untrusted input.

    `folder` is a path, or (POSIX) an open directory fd, so that a folder the child renamed or replaced by a
    link is never followed. The file itself is opened without following a link and without blocking (a FIFO),
    and read only if fstat shows a regular file with one name (not a hard link to someone else's file),
    owned by `owner` when given, and at most `cap` bytes long; never more than cap + 1 bytes are read."""
    flags = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(name, flags, dir_fd=folder) if isinstance(folder, int) else os.open(os.path.join(folder, name), flags)
    except FileNotFoundError:
        raise Unreadable(f"{name} is missing") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unreadable(f"{name} is a symbolic link") from None
        raise Unreadable(f"{name} could not be opened: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable(f"{name} is not a regular file")
        if owner is not None and st.st_uid != owner:
            raise Unreadable(f"{name} was not written by this run (owner uid {st.st_uid})")
        if st.st_nlink != 1:
            raise Unreadable(f"{name} has {st.st_nlink} names (a hard link)")
        if st.st_size > cap:
            raise Unreadable(f"{name} is larger than {cap} bytes")
        data = read_at_most(fd, cap + 1)
        if len(data) > cap:
            raise Unreadable(f"{name} is larger than {cap} bytes")
        return data
    except OSError as exc:
        raise Unreadable(f"{name} could not be read: {exc.strerror}") from None
    finally:
        os.close(fd)


def read_at_most(fd, limit):
    """The bytes of open file fd up to its end, but never more than limit (a caller that reads cap + 1 learns that a
    file grew past its cap while it was read, whatever fstat said)."""
    chunks, total = [], 0
    while total < limit:
        chunk = os.read(fd, min(2 ** 20, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_answer(out, probe_id, owner=None):
    """One probe's answer: probe_id.json and probe_id.bin in `out` (a path or a directory fd), as read_child_file
    reads them."""
    try:
        data = json.loads(read_child_file(out, f"{probe_id}.json", MAX_ANSWER_JSON_BYTES, owner).decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        layout = (data.get("arrays") or {}) if "error" not in data else {}
        raw = read_child_file(out, f"{probe_id}.bin", MAX_ANSWER_BYTES, owner) if layout else b""
        loaded = _read_arrays(raw, layout)
    except Unreadable as exc:
        return Answer("error", message=f"the answer could not be read: {exc}")
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError, MemoryError, OverflowError) as exc:
        return Answer("error", message=f"the answer could not be read: {type(exc).__name__}: {str(exc)[:200]}")
    if "error" in data:
        error = child_error(data["error"])
        return Answer("error", error=error, seconds=_seconds(data), message=error["message"],
                      nbytes=sum(a.nbytes for a in loaded.values()))
    try:
        value = decode(data["result"], loaded)
        args_after = [decode(a, loaded) for a in data.get("args_after", [])]
        kwargs_after = {k: decode(v, loaded) for k, v in data.get("kwargs_after", {}).items()}
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError, MemoryError, OverflowError) as exc:
        return Answer("error", message=f"the answer could not be decoded: {type(exc).__name__}: {str(exc)[:200]}")
    return Answer("ok", value=value, args_after=args_after, kwargs_after=kwargs_after, seconds=_seconds(data),
                  nbytes=sum(a.nbytes for a in loaded.values()))


def child_error(error):
    """An exception as the child describes it (child._short_error: type, message, where, traceback), made plain:
    strings of bounded length whatever the child wrote, so that feedback can slice and compare them."""
    if not isinstance(error, dict):
        error = {"message": error}
    where = error.get("where")
    where = where[-3:] if isinstance(where, list) else ([] if where is None else [where])
    return {"type": str(error.get("type") or "")[:200], "message": str(error.get("message") or "")[:2000],
            "where": [str(w)[:200] for w in where], "traceback": str(error.get("traceback") or "")[-4000:]}


def _seconds(data):
    value = data.get("seconds", 0.0)
    return float(value) if type(value) in (int, float) else 0.0


def _read_arrays(raw, layout):
    """The child's arrays: raw bytes at the offsets its JSON gives, as plain numeric dtypes only."""
    arrays, total = {}, 0
    for key, spec in layout.items():
        dtype = np.dtype(str(spec["dtype"]))
        if dtype.kind not in "biuf" or dtype.hasobject or dtype.fields is not None:
            raise ValueError(f"array of dtype {dtype} refused")
        shape = tuple(int(n) for n in spec["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        total += count * dtype.itemsize
        if total > len(raw):  # the child writes each array once, at its own offset; more is the same bytes again
            raise ValueError(f"the arrays add up to more than the {len(raw)} bytes written")
        arrays[str(key)] = np.frombuffer(raw, dtype=dtype, count=count, offset=int(spec["offset"])).reshape(shape).copy()
    return arrays


def decode(spec, arrays):
    """Plain data back from the child's encoding; unknown classes become ForeignValue."""
    t = spec["t"]
    if t not in ANSWER_KINDS:  # not a kind the child writes: a forged or corrupted answer file
        return ForeignValue(f"an answer of unknown kind {str(t)[:50]!r}")
    if t == "none":
        return None
    if t in ("bool", "int"):
        return (bool if t == "bool" else int)(spec["v"])
    if t == "float":
        return float.fromhex(spec["v"])
    if t == "str":
        return str(spec["v"])
    if t == "list":
        return [decode(s, arrays) for s in spec["items"]]
    if t == "tuple":
        return tuple(decode(s, arrays) for s in spec["items"])
    if t == "dict":
        return {str(k): decode(s, arrays) for k, s in spec["items"].items()}
    if t == "ndarray":
        return np.asarray(arrays[spec["ref"]])
    if t == "npscalar":
        return np.asarray(arrays[spec["ref"]])[()]
    if t == "tensor":
        return TensorValue(np.asarray(arrays[spec["ref"]]), str(spec["dtype"]), bool(spec.get("requires_grad")))
    if t == "module":
        return ModuleValue(str(spec["cls"]), spec.get("torch_cls"), dict(spec.get("config", {})),
                           {str(k): decode(s, arrays) for k, s in spec.get("state", {}).items()},
                           {str(k): decode(s, arrays) for k, s in spec.get("children", {}).items()})
    return ForeignValue(str(spec.get("cls", "?"))[:200])
