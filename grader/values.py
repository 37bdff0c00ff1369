"""Plain-data stand-ins for what crosses between the scoring process and a child.

Arguments sent to a child (Tensor, TorchModule, StudentModule) and values that come back
(TensorValue, ModuleValue, ForeignValue) are numbers and strings only.
"""
from dataclasses import dataclass, field

import numpy as np


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


@dataclass
class Tensor:
    """An argument the child receives as a torch tensor."""
    array: np.ndarray


@dataclass
class TorchModule:
    """An argument the child builds as torch.nn.<cls>(**kwargs) with the given state_dict."""
    cls: str  # RNNCell | RNN | Linear
    kwargs: dict
    state: dict  # name -> np.ndarray (float32)


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


def probe_from_spec(spec, arrays):
    """A Probe back from probe_spec's JSON (with its section, visibility and time limit added)."""
    return Probe(spec["id"], int(spec["section"]), spec["fn"], [from_spec(a, arrays) for a in spec["args"]],
                 {k: from_spec(v, arrays) for k, v in spec["kwargs"].items()}, bool(spec.get("hidden", False)),
                 float(spec["timeout"]), spec.get("seed"))
