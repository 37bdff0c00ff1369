"""Checks of torch modules and models: a module's kind and settings, a model's parameters, its logits and its text.

Generic assertions (shapes, closeness) are common.py's.
"""
import numpy as np

from ..wire import ModuleValue, TensorValue
from .common import _finite, describe, expect_close, expect_tensor, fail


def expect_module(value, torch_cls, name, config=None):
    """A torch.nn module whose torch base class is torch_cls, with the given config entries."""
    if not isinstance(value, ModuleValue):
        fail(f"{name} should be a torch.nn.{torch_cls}, but it is {describe(value)}.",
             f"{name} 应为 torch.nn.{torch_cls}，但它是 {describe(value)}。")
    if value.torch_cls != torch_cls:
        fail(f"{name} should be a torch.nn.{torch_cls}, but it is a {value.cls} (torch.nn.{value.torch_cls}).",
             f"{name} 应为 torch.nn.{torch_cls}，但它是 {value.cls}（torch.nn.{value.torch_cls}）。")
    for key, want in (config or {}).items():
        got = value.config.get(key)
        if got != want:
            fail(f"{name}.{key} should be {want!r}, but is {got!r}.", f"{name}.{key} 应为 {want!r}，实际为 {got!r}。")
    return value


def expect_state(evidence, cls, value, name):
    """A returned module's parameters under the homework model's names and shapes; name -> float32 array."""
    state = value.state
    want = evidence.oracle.state_shapes(cls)
    # Entries beyond the homework's (a buffer, an unused layer) are the student's business; the
    # homework's own parameters must all be there, under the homework's names.
    missing = sorted(set(want) - set(state))
    if missing:
        fail(f"{name} lacks the homework model's parameters {missing}. Keep the attribute names of the homework "
             f"(e.g. emb, rnn, fc).",
             f"{name} 缺少作业模型的参数 {missing}。请保持作业中的属性名（如 emb、rnn、fc）。")
    checked = {}
    for key, shape in want.items():
        got = state[key]
        if not isinstance(got, TensorValue) or not same_behaviour(key, got.array.shape, shape):
            found = tuple(got.array.shape) if isinstance(got, TensorValue) else describe(got)
            fail(f"{name}'s parameter {key} should have shape {tuple(shape)}, but has {found}.",
                 f"{name} 的参数 {key} 形状应为 {tuple(shape)}，实际为 {found}。")
        _finite(got.array, f"{name}.{key}")
        # a bias that broadcasts (shape (1,) for (4,)) adds the same numbers: the model it belongs to is this one
        checked[key] = np.broadcast_to(np.asarray(got.array, dtype=np.float32), shape).copy()
    return checked


def same_behaviour(key, shape, want):
    """A parameter of this shape makes its module compute what one of shape `want` would: the same shape, or a bias
    that broadcasts to it (the homework's `liner.bias.data = torch.Tensor([0.0])` gives nn.Linear a bias of shape
    (1,): torch adds it to every output). A weight of another shape cannot multiply the module's inputs."""
    shape, want = tuple(shape), tuple(want)
    if shape == want:
        return True
    if not key.rsplit(".", 1)[-1].startswith("bias"):
        return False
    try:
        return np.broadcast_shapes(shape, want) == want
    except ValueError:
        return False


def torch_shapes(kind, config):
    """The parameters of a plain torch.nn.<kind> (RNNCell, RNN or Linear) of this config, name -> shape, as torch
    makes them (torch.nn.RNNCell.__init__, RNNBase.__init__, Linear.__init__); and how that module is written."""
    if kind == "Linear":
        i, o = config.get("in_features"), config.get("out_features")
        return {"weight": (o, i), "bias": (o,)}, f"nn.Linear({i}, {o})"
    i, h = config.get("input_size"), config.get("hidden_size")
    if kind == "RNNCell":
        return ({"weight_ih": (h, i), "weight_hh": (h, h), "bias_ih": (h,), "bias_hh": (h,)},
                f"nn.RNNCell({i}, {h})")
    layers = config.get("num_layers", 1)
    shapes = {}
    for k in range(layers):
        shapes.update({f"weight_ih_l{k}": (h, i if k == 0 else h), f"weight_hh_l{k}": (h, h),
                       f"bias_ih_l{k}": (h,), f"bias_hh_l{k}": (h,)})
    return shapes, f"nn.RNN({i}, {h}, num_layers={layers})"


def expect_torch_shapes(value, kind, name):
    """A returned torch module's parameters (after expect_module) have the shapes its torch class gives them at its
    config, or shapes that behave the same (same_behaviour); else the message names the parameter and both shapes."""
    want, written = torch_shapes(kind, value.config)
    for key, shape in want.items():
        got = value.state.get(key)
        if got is None and kind == "Linear" and key == "bias":
            continue  # nn.Linear(..., bias=False): it adds nothing, as a zero bias
        if not isinstance(got, TensorValue):
            fail(f"{name} has no parameter {key}; {written} has one of shape {shape}.",
                 f"{name} 没有参数 {key}；{written} 有形状为 {shape} 的该参数。")
        if not same_behaviour(key, got.array.shape, shape):
            fail(f"{name}.{key} has shape {tuple(got.array.shape)}; {written} has {shape}.",
                 f"{name}.{key} 的形状为 {tuple(got.array.shape)}；{written} 的为 {shape}。")


def torch_module(kind, value):
    """A plain torch.nn.<kind> (RNNCell, RNN or Linear) of a returned module's configuration and state, each parameter
    with the student's own shape (as `.data =` gives it; expect_torch_shapes has checked that it behaves the same).
    Entries of the student's own beyond torch's (a buffer, a subclass's extra) are not the torch module's."""
    import torch
    cfg = value.config
    if kind == "Linear":
        module = torch.nn.Linear(cfg["in_features"], cfg["out_features"], bias="bias" in value.state)
    elif kind == "RNNCell":
        module = torch.nn.RNNCell(cfg["input_size"], cfg["hidden_size"], bias=cfg.get("bias", True),
                                  nonlinearity=cfg.get("nonlinearity", "tanh"))
    else:
        module = torch.nn.RNN(cfg["input_size"], cfg["hidden_size"], num_layers=cfg.get("num_layers", 1),
                              bias=cfg.get("bias", True), nonlinearity=cfg.get("nonlinearity", "tanh"),
                              bidirectional=cfg.get("bidirectional", False))
    for key, param in module.named_parameters():
        param.data = torch.from_numpy(np.asarray(value.state[key].array, np.float32).copy())
    return module


def check_logits(evidence, pid, tol_key, name):
    """A model's forward pass on the grader's weights against the reference's.

    Logits are equal up to an additive constant per row: softmax, argmax and cross-entropy cannot tell
    them apart, so a forward that returns log_softmax (logits minus their logsumexp) is as right. Both
    sides are compared after subtracting each row's mean.
    """
    want = evidence.expected(pid)
    logits = expect_tensor(evidence.answer(pid), name, want.shape)
    centre = lambda a: np.asarray(a, np.float64) - np.asarray(a, np.float64).mean(axis=-1, keepdims=True)
    expect_close(centre(logits), centre(want), evidence.tol(tol_key), "logits (each row less its mean)",
                 " (with the grader's weights)", "（使用评分器给出的权重）")


def check_text_answer(evidence, pid, call):
    """A string answer (predict, translate) on the grader's weights against the reference's."""
    got, want = evidence.answer(pid), evidence.expected(pid)
    if not isinstance(got, str) or got != want:
        fail(f"{call} should be {want!r} with the grader's weights, but is {got!r}.",
             f"使用评分器给出的权重时，{call} 应为 {want!r}，实际为 {got!r}。")
