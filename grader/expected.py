"""Expected values: the reference called, in this trusted process, on a probe's own inputs."""
import copy

import numpy as np
import torch

import reference
from hw8core.child import TORCH_MODULES
from hw8core.wire import StudentModule, Tensor, TorchModule

TORCH_CLASSES = {name: getattr(torch.nn, name) for name in TORCH_MODULES}
REFERENCE_CLASSES = {"CharRNN": reference.CharRNN, "Seq2Seq": reference.Seq2Seq}


def materialise(value, dtype=None):
    """A probe argument as the reference receives it: arrays, tensors and modules.

    dtype=torch.float64 builds the float64 twin of a float32 computation (tolerance measurement).
    """
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, Tensor):
        t = torch.from_numpy(value.array.copy())
        return t.to(dtype) if dtype is not None and t.is_floating_point() else t
    if isinstance(value, (TorchModule, StudentModule)):
        cls = (TORCH_CLASSES if isinstance(value, TorchModule) else REFERENCE_CLASSES)[value.cls]
        module = cls(**value.kwargs)
        module.load_state_dict({k: torch.from_numpy(np.asarray(v).copy()) for k, v in value.state.items()})
        return module.to(dtype) if dtype is not None else module
    if isinstance(value, dict):
        return {k: materialise(v, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(materialise(v, dtype) for v in value)
    return copy.deepcopy(value)


def expected(probe, dtype=None):
    """The reference's answer to a probe."""
    args = [materialise(a, dtype) for a in probe.args]
    kwargs = {k: materialise(v, dtype) for k, v in probe.kwargs.items()}
    if probe.fn == "@call":
        fn, args = args[0], args[1:]
    else:
        fn = getattr(reference, probe.fn)
    default = torch.get_default_dtype()
    try:
        if dtype is not None:
            torch.set_default_dtype(dtype)  # zeros made inside the reference (h0=None) follow
        with torch.no_grad():
            return fn(*args, **kwargs)
    finally:
        torch.set_default_dtype(default)


def to_numpy(value):
    """Tensors in an expected value, as float64 NumPy arrays; a module as plain data (its class, sizes and state),
    so that two right answers compare equal when they are equal (build_rnncell(2, 2, 2) twice), not only when
    they are the same object: the anti-hard-coding rule asks whether the right answers differ."""
    if isinstance(value, torch.Tensor):
        return value.detach().double().numpy() if value.is_floating_point() else value.numpy()
    if isinstance(value, torch.nn.Module):
        return {"module": repr(value), "state": {k: to_numpy(v) for k, v in value.state_dict().items()}}
    if isinstance(value, (list, tuple)):
        return type(value)(to_numpy(v) for v in value)
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    return value
