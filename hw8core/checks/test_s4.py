"""Section 4: the binary-addition RNN with hand-written BPTT (20 points by default)."""
import numpy as np
from .marks import number, tags, visibility, weight

from ..evidence import CheckFailed
from .common import (all_pass, describe, expect_all_unmodified, expect_array, expect_close, fail,
                     require_follows_arguments, require_follows_inputs, require_real_training,
                     require_trains_at_another_seed, unpack, within)

KEYS = ("W_xh", "W_hh", "W_hy")
HW_SUMS = [(4, 73), (71, 11), (81, 113), (81, 0), (4, 125), (39, 17), (11, 3)]  # the "a + b" the homework prints


def as_int(value, name):
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, np.ndarray) and value.shape == ()
                                                                   and np.issubdtype(value.dtype, np.integer))
                                       or isinstance(value, np.integer)):
        fail(f"{name} should be an integer, but it is {describe(value)}.", f"{name} 应为整数，但它是 {describe(value)}。")
    return int(value)


def check_int2binary(evidence, pid):
    p = evidence.probe(pid)
    width = p.kwargs.get("width", 8)
    bits = expect_array(evidence.answer(pid), f"int2binary({p.args[0]})", (width,), dtype="int")
    want = evidence.expected(pid)
    if not np.array_equal(bits.astype(np.int64), want.astype(np.int64)):
        fail(f"int2binary({p.args[0]}, width={width}) should be {want.tolist()} (most significant bit first), "
             f"but is {bits.tolist()}.",
             f"int2binary({p.args[0]}, width={width}) 应为 {want.tolist()}（最高位在前），实际为 {bits.tolist()}。")


def _check_int_answer(evidence, pid, call, grader_weights=False):
    """An integer answer (binary2int, add_binary) against the reference's."""
    got = as_int(evidence.answer(pid), call)
    want = evidence.expected(pid)
    if got != want:
        en, zh = (" with the grader's weights", "使用评分器给出的权重时，") if grader_weights else ("", "")
        fail(f"{call} should be {want}{en}, but is {got}.", f"{zh}{call} 应为 {want}，实际为 {got}。")


def check_binary2int(evidence, pid):
    _check_int_answer(evidence, pid, f"binary2int({evidence.probe(pid).args[0].tolist()})")


def check_bits(evidence, pid):
    (check_int2binary if evidence.probe(pid).fn == "int2binary" else check_binary2int)(evidence, pid)


def check_forward(evidence, pid):
    hidden, outputs = unpack(evidence.answer(pid), ["hidden", "outputs"], "binary_adder_forward")
    want_h, want_y = evidence.expected(pid)
    expect_array(hidden, "hidden", want_h.shape)
    expect_array(outputs, "outputs", want_y.shape)
    expect_close(hidden, want_h, evidence.tol("s4.forward"), "hidden")
    expect_close(outputs, want_y, evidence.tol("s4.forward"), "outputs",
                 " (outputs[t] is the bit t counted from the least significant)", "（outputs[t] 为从最低位数起的第 t 位）")


def expect_weight_dict(value, fn):
    """A dict keyed exactly W_xh, W_hh, W_hy, as gradients and trained weights are."""
    if not isinstance(value, dict) or set(value) != set(KEYS):
        keys = sorted(value) if isinstance(value, dict) else describe(value)
        fail(f"{fn} should return a dict with keys {list(KEYS)}, but returned {keys}.",
             f"{fn} 应返回键为 {list(KEYS)} 的字典，实际返回 {keys}。")
    return value


def check_gradients(evidence, pid):
    grads = expect_weight_dict(evidence.answer(pid), "binary_adder_gradients")
    want = evidence.expected(pid)
    for k in KEYS:
        expect_array(grads[k], f"gradients['{k}']", want[k].shape)
    tol = evidence.tol("s4.grad")
    for k in KEYS:
        expect_close(grads[k], want[k], tol, f"gradients['{k}']", *gradient_hint(grads[k], want[k], tol))


def gradient_hint(got, want, tol):
    """A hint only where the evidence shows it: the array is the expected one negated (a sign: -dL/dW, as the
    homework's own code accumulates), or transposed. Otherwise nothing: a wrong gradient is not always a sign."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if np.any(want != 0) and within(got, -want, tol):
        return " (it is -dL/dW: the sign is flipped; return dL/dW)", "（这是 -dL/dW：符号反了；应返回 dL/dW）"
    if want.ndim == 2 and want.shape[0] == want.shape[1] and not within(want, want.T, tol) and within(got, want.T, tol):
        return " (it is the transpose of dL/dW)", "（这是 dL/dW 的转置）"
    return "", ""


def check_add(evidence, pid):
    p = evidence.probe(pid)
    width = f", width={p.kwargs['width']}" if "width" in p.kwargs else ""
    _check_int_answer(evidence, pid, f"add_binary(weights, {p.args[1]}, {p.args[2]}{width})", grader_weights=True)


@weight(2)
@number("4.1")
@visibility("visible")
@tags("numpy", "bptt")
def test_bits_homework(evidence):
    """int2binary and binary2int agree with the bit strings the homework prints
    int2binary 与 binary2int 与作业打印的二进制串一致"""
    for pid in evidence.ids("s4.int2binary.hw") + ["s4.binary2int.hw"]:
        check_bits(evidence, pid)
    require_follows_inputs(evidence, evidence.ids("s4.int2binary.rand"), "int2binary")
    require_follows_inputs(evidence, evidence.ids("s4.binary2int.rand"), "binary2int")


@weight(2)
@number("4.2")
@visibility("visible")
@tags("numpy", "bptt")
def test_forward_homework(evidence):
    """binary_adder_forward on the homework's seed-0 weights and 4 + 73
    binary_adder_forward 在作业的种子 0 权重和 4 + 73 上的结果"""
    check_forward(evidence, "s4.forward.hw")
    require_follows_inputs(evidence, evidence.ids("s4.forward.rand"), "binary_adder_forward")


@weight(3)
@number("4.3")
@visibility("visible")
@tags("numpy", "bptt")
def test_gradients_homework(evidence):
    """binary_adder_gradients (BPTT) on the homework's seed-0 weights and 4 + 73
    binary_adder_gradients（BPTT）在作业的种子 0 权重和 4 + 73 上的结果"""
    check_gradients(evidence, "s4.grad.hw")
    require_follows_inputs(evidence, evidence.ids("s4.grad.rand"), "binary_adder_gradients")


@weight(4)  # 5 before issue 17: one moved to 4.10, the training following its arguments
@number("4.4")
@visibility("visible")
@tags("numpy", "bptt", "training")
def test_training(evidence):
    """train_binary_adder learns to add: at least 99% of all 128 x 128 sums right (re-checked by the grader)
    train_binary_adder 学会加法：128 x 128 个加法中至少 99% 正确（由评分器重新计算）"""
    _judge_adder(evidence, "s4.train")
    require_real_training(evidence, "s4", "train_binary_adder", _adder_untrained)
    require_trains_at_another_seed(evidence, "s4", "train_binary_adder", _judge_adder)


def _judge_adder(evidence, pid):
    """The training criterion, for the graded training (pid "s4.train") and the same at another seed."""
    p = evidence.probe(pid)
    weights = expect_weight_dict(evidence.answer(pid), "train_binary_adder")
    H = p.kwargs["hidden_dim"]
    for k, shape in zip(KEYS, [(2, H), (H, H), (H, 1)]):
        expect_array(weights[k], f"weights['{k}']", shape)
    acc, pass_accuracy = evidence.oracle.adder_accuracy(evidence, pid), evidence.oracle.pass_accuracy
    if not acc >= pass_accuracy:
        wrong = [f"{a} + {b}" for a, b in HW_SUMS if evidence.oracle.adder_sum(evidence, pid, a, b) != a + b]
        fail(f"After train_binary_adder(iterations={p.kwargs['iterations']}, seed={p.kwargs['seed']}), the network adds "
             f"{acc:.2%} of all pairs a, b < 128 correctly; it should reach {pass_accuracy:.0%}, as the reference does for "
             f"every seed 0-49 at this budget "
             f"(reference/BUDGETS.md). Wrong among the homework's sums: {', '.join(wrong) or 'none'}.",
             f"train_binary_adder(iterations={p.kwargs['iterations']}, seed={p.kwargs['seed']}) 训练后，网络对所有 a, b < 128 "
             f"的加法正确率为 {acc:.2%}；应达到 {pass_accuracy:.0%}，参考实现在此预算下对种子 0-49 均能达到（见 reference/BUDGETS.md）。"
             f"作业中算错的加法：{', '.join(wrong) or '无'}。")


def _adder_untrained(evidence, pid):
    weights = evidence.answer(pid)
    if not isinstance(weights, dict) or set(weights) != set(KEYS) or not all(
            isinstance(weights[k], np.ndarray) and weights[k].dtype.kind == "f" for k in KEYS):
        return True, ""  # not a weight dict at all: nothing trained
    try:
        acc = evidence.oracle.adder_accuracy(evidence, pid)
    except (ValueError, TypeError, CheckFailed):
        return True, ""
    return acc < evidence.oracle.pass_accuracy, f"{acc:.2%} of all sums right"


@weight(2)
@number("4.5")
@visibility("after_published")
@tags("numpy", "bptt")
def test_bits_random(evidence):
    """int2binary and binary2int on random numbers and widths
    int2binary 与 binary2int 在随机数字和位宽上的结果"""
    all_pass(evidence, check_bits, evidence.ids("s4.int2binary.rand") + evidence.ids("s4.binary2int.rand"))


@weight(2)
@number("4.6")
@visibility("after_published")
@tags("numpy", "bptt")
def test_forward_random(evidence):
    """binary_adder_forward on random weights, hidden sizes and operands
    binary_adder_forward 在随机权重、隐藏层大小和操作数上的结果"""
    all_pass(evidence, check_forward, evidence.ids("s4.forward.rand"))


@weight(2)
@number("4.7")
@visibility("after_published")
@tags("numpy", "bptt")
def test_gradients_random(evidence):
    """binary_adder_gradients on random weights
    binary_adder_gradients 在随机权重上的结果"""
    all_pass(evidence, check_gradients, evidence.ids("s4.grad.rand"))


@weight(1)
@number("4.8")
@visibility("after_published")
@tags("numpy", "bptt")
def test_add_binary(evidence):
    """add_binary reads the rounded outputs back as an integer, with weights the grader supplies
    add_binary 使用评分器给出的权重，把四舍五入后的输出读回整数"""
    all_pass(evidence, check_add, ["s4.add.hw"] + evidence.ids("s4.add.rand"))


@weight(1)  # non-mutation: 5% of the section, its own small check
@number("4.9")
@visibility("after_published")
@tags("numpy", "bptt")
def test_arguments_unmodified(evidence):
    """binary_adder_forward and binary_adder_gradients leave the weights unchanged
    binary_adder_forward 与 binary_adder_gradients 不修改权重"""
    expect_all_unmodified(evidence, ["s4.grad.hw", "s4.forward.hw"] + evidence.ids("s4.grad.rand")
                          + evidence.ids("s4.forward.rand"))
    # a constant modifies nothing
    require_follows_inputs(evidence, evidence.ids("s4.grad.rand"), "binary_adder_gradients")


@weight(1)
@number("4.10")
@visibility("visible")
@tags("numpy", "bptt", "training")
def test_training_follows_its_arguments(evidence):
    """train_binary_adder runs at a tiny budget and follows its seed, alpha, hidden_dim and width there
    train_binary_adder 在极小预算下也能运行，并遵循 seed、alpha、hidden_dim 与 width"""
    # Its own small check (issue 17): a training that breaks only these keeps the training marks of 4.4
    require_follows_arguments(evidence, "s4", "train_binary_adder")
