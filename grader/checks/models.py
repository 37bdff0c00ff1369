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
        if not isinstance(got, TensorValue) or tuple(got.array.shape) != tuple(shape):
            found = tuple(got.array.shape) if isinstance(got, TensorValue) else describe(got)
            fail(f"{name}'s parameter {key} should have shape {tuple(shape)}, but has {found}.",
                 f"{name} 的参数 {key} 形状应为 {tuple(shape)}，实际为 {found}。")
        _finite(got.array, f"{name}.{key}")
        checked[key] = np.asarray(got.array, dtype=np.float32)
    return checked


def torch_module(kind, value):
    """A plain torch.nn.<kind> (RNNCell, RNN or Linear) of a returned module's configuration and state."""
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
    module.load_state_dict({k: torch.from_numpy(np.asarray(v.array, np.float32).copy()) for k, v in value.state.items()})
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
