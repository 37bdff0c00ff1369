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
