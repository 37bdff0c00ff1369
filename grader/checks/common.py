"""Checks shared by the sections: type, shape, dtype and finiteness first, then values."""
import numpy as np

from ..expected import expected, to_numpy
from ..i18n import _
from ..run import CheckFailed, fail, passes
from ..values import ForeignValue, ModuleValue, StudentModule, Tensor, TensorValue, TorchModule


def describe(value):
    if isinstance(value, TensorValue):
        return f"a torch tensor of shape {tuple(value.array.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, ForeignValue):
        return f"an object of class {value.cls}"
    if isinstance(value, ModuleValue):
        return f"a module of class {value.cls}"
    return f"a {type(value).__name__}"


def unpack(value, names, fn):
    """A tuple (or list) of len(names) values."""
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        want = "(" + ", ".join(names) + ")"
        fail(f"{fn} should return a tuple {want}, but returned {describe(value)}.",
             f"{fn} 应返回元组 {want}，但返回了 {describe(value)}。")
    return value


def expect_array(value, name, shape, dtype="float64"):
    """A NumPy array of the given shape and dtype ("float64", or "int" for any integer dtype), all finite."""
    if isinstance(value, TensorValue):
        fail(f"{name} should be a NumPy array, but it is a torch tensor.", f"{name} 应为 NumPy 数组，但它是 torch 张量。")
    if not isinstance(value, np.ndarray):
        fail(f"{name} should be a NumPy array (numpy.ndarray), but it is {describe(value)}.",
             f"{name} 应为 NumPy 数组（numpy.ndarray），但它是 {describe(value)}。")
    if tuple(value.shape) != tuple(shape):
        fail(f"{name} should have shape {tuple(shape)}, but has shape {tuple(value.shape)}.",
             f"{name} 的形状应为 {tuple(shape)}，实际为 {tuple(value.shape)}。")
    if dtype == "float64" and value.dtype != np.float64:
        fail(f"{name} should have dtype float64, but has {value.dtype}.", f"{name} 的 dtype 应为 float64，实际为 {value.dtype}。")
    if dtype == "int" and not (np.issubdtype(value.dtype, np.integer) or value.dtype == np.bool_):
        fail(f"{name} should hold integers, but has dtype {value.dtype}.", f"{name} 应为整数类型，实际 dtype 为 {value.dtype}。")
    _finite(value, name)
    return value


def expect_tensor(value, name, shape, dtype="float32"):
    if isinstance(value, np.ndarray):
        fail(f"{name} should be a torch tensor, but it is a NumPy array.", f"{name} 应为 torch 张量，但它是 NumPy 数组。")
    if not isinstance(value, TensorValue):
        fail(f"{name} should be a torch tensor, but it is {describe(value)}.", f"{name} 应为 torch 张量，但它是 {describe(value)}。")
    if tuple(value.array.shape) != tuple(shape):
        fail(f"{name} should have shape {tuple(shape)}, but has shape {tuple(value.array.shape)}.",
             f"{name} 的形状应为 {tuple(shape)}，实际为 {tuple(value.array.shape)}。")
    if dtype is not None and value.dtype != dtype:
        fail(f"{name} should have dtype torch.{dtype}, but has torch.{value.dtype}.",
             f"{name} 的 dtype 应为 torch.{dtype}，实际为 torch.{value.dtype}。")
    _finite(value.array, name)
    return value.array


def _finite(arr, name):
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        fail(f"{name} contains NaN or infinity (first at index {bad}).", f"{name} 含有 NaN 或无穷大（首个位于索引 {bad}）。")


def expect_close(got, want, tol, name, context_en="", context_zh=""):
    """|got - want| <= tol * (1 + |want|) everywhere; the message shows the worst element."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    err = np.abs(got - want) / (1 + np.abs(want))
    if err.size and not np.all(err <= tol):
        idx = np.unravel_index(int(np.argmax(err)), err.shape)
        at = "[" + ", ".join(str(int(i)) for i in idx) + "]"
        fail(f"{name}{at} should be {want[idx]:.10g} but is {got[idx]:.10g}{context_en}.",
             f"{name}{at} 应为 {want[idx]:.10g}，实际为 {got[idx]:.10g}{context_zh}。")


def same_value(a, b):
    """Exact equality of probe inputs before and after a call."""
    if isinstance(b, Tensor):
        b = b.array
    if isinstance(a, TensorValue):
        a = a.array
    if isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in b)
    if isinstance(b, (list, tuple)):
        return isinstance(a, (list, tuple)) and len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(b, (TorchModule, StudentModule)):
        return True  # modules are the grader's; their inputs are compared separately
    return a == b


def expect_unmodified(run, pid):
    """The call left its arguments as they were."""
    record = run.answer_record(pid)
    p = run.probe(pid)
    name = p.fn if p.fn != "@call" else "forward"
    for i, (before, after) in enumerate(zip(p.args, record.args_after or [])):
        if not same_value(after, before):
            fail(f"{name} modified its argument number {i + 1}; it must leave its inputs unchanged (copy them first).",
                 f"{name} 修改了它的第 {i + 1} 个参数；函数不得修改输入（请先复制）。")
    for k, before in p.kwargs.items():
        if not same_value((record.kwargs_after or {}).get(k), before):
            fail(f"{name} modified its argument {k}; it must leave its inputs unchanged.",
                 f"{name} 修改了参数 {k}；函数不得修改输入。")


def generalizes(run, check, pids):
    """Gate for the homework-number checks: the same function must also pass a randomized probe.

    Returns None when the hidden probes were not run (a local `check`), else True or False.
    """
    if not run.has_hidden() or not pids:
        return None
    return any(passes(check, run, pid) for pid in pids)


def require_generalizes(run, check, pids, fn):
    if generalizes(run, check, pids) is False:
        fail(f"{fn} reproduces the homework's numbers, but none of its results on the randomized inputs is right "
             f"(see the randomized check of this section), so these points are withheld too. The homework's all-ones "
             f"weights hide some bugs, a transposed matrix for one; and fixed numbers earn nothing.",
             f"{fn} 能复现作业中的数字，但在随机输入上的结果全都不对（见本节的随机检查），因此这一项也不给分。"
             f"作业的全 1 权重会掩盖一些错误（例如矩阵转置）；返回固定的数字不得分。")


def all_pass(run, check, pids):
    """Run check on every probe; the first failure names its probe's sizes."""
    for pid in pids:
        try:
            check(run, pid)
        except CheckFailed as exc:
            p = run.probe(pid)
            sizes = _sizes(p)
            raise CheckFailed(exc.feedback + _(f" [randomized probe {pid}{sizes}]", f" [随机测试 {pid}{sizes}]")) from None


def _sizes(p):
    shapes = []
    for a in p.args + list(p.kwargs.values()):
        if isinstance(a, np.ndarray):
            shapes.append(str(tuple(a.shape)))
        elif isinstance(a, Tensor):
            shapes.append(str(tuple(a.array.shape)))
    return (": argument shapes " + ", ".join(shapes)) if shapes else ""


__all__ = ["CheckFailed", "all_pass", "describe", "expect_array", "expect_close", "expect_tensor", "expect_unmodified",
           "expected", "fail", "generalizes", "require_generalizes", "same_value", "to_numpy", "unpack", "passes"]


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


def load_state(model, value, name):
    """Load a returned module's state_dict into a reference model; shapes and names must match."""
    import torch
    state = value.state
    want = model.state_dict()
    missing = sorted(set(want) - set(state))
    extra = sorted(set(state) - set(want))
    if missing or extra:
        fail(f"{name}'s parameters do not match the homework's model: missing {missing or 'none'}, unexpected "
             f"{extra or 'none'}. Keep the attribute names of the homework (e.g. emb, rnn, fc).",
             f"{name} 的参数与作业模型不一致：缺少 {missing or '无'}，多出 {extra or '无'}。请保持作业中的属性名（如 emb、rnn、fc）。")
    loaded = {}
    for key, tensor in want.items():
        got = state[key]
        if not isinstance(got, TensorValue) or tuple(got.array.shape) != tuple(tensor.shape):
            shape = tuple(got.array.shape) if isinstance(got, TensorValue) else describe(got)
            fail(f"{name}'s parameter {key} should have shape {tuple(tensor.shape)}, but has {shape}.",
                 f"{name} 的参数 {key} 形状应为 {tuple(tensor.shape)}，实际为 {shape}。")
        _finite(got.array, f"{name}.{key}")
        loaded[key] = torch.from_numpy(np.asarray(got.array, dtype=np.float32).copy())
    model.load_state_dict(loaded)
    return model


def check_logits(run, pid, tol_key, name):
    """A model's forward pass on the grader's weights against the reference's."""
    want = to_numpy(expected(run.probe(pid)))
    logits = expect_tensor(run.answer(pid), name, want.shape)
    expect_close(logits, want, run.tol(tol_key), "logits", " (with the grader's weights)", "（使用评分器给出的权重）")


def check_text_answer(run, pid, call):
    """A string answer (predict, translate) on the grader's weights against the reference's."""
    got, want = run.answer(pid), expected(run.probe(pid))
    if not isinstance(got, str) or got != want:
        fail(f"{call} should be {want!r} with the grader's weights, but is {got!r}.",
             f"使用评分器给出的权重时，{call} 应为 {want!r}，实际为 {got!r}。")


__all__ += ["check_logits", "check_text_answer", "expect_module", "load_state"]
