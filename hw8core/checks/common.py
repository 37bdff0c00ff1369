"""Assertions shared by the sections' checks: type, shape, dtype and finiteness first, then values; and the rules
every section applies (unmodified arguments, answers that follow their inputs, training that really trains).

The checks of torch modules and models are in models.py."""
import numpy as np

from .. import probe_ids as P
from ..evidence import CheckFailed, fail
from ..i18n import Msg
from ..wire import called, ForeignValue, ModuleValue, StudentModule, Tensor, TensorValue, TorchModule


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


def within(got, want, tol):
    """expect_close's criterion as a yes/no (for hints): same shape, not empty, |got - want| <= tol * (1 + |want|)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return got.shape == want.shape and got.size > 0 and bool(np.all(np.abs(got - want) <= tol * (1 + np.abs(want))))


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
    if isinstance(a, (np.ndarray, TensorValue)):
        return False  # a plain argument (a word, a number) that came back as an array
    return a == b


def expect_unmodified(evidence, pid):
    """The call left its arguments as they were."""
    record = evidence.answer_record(pid)
    p = evidence.probe(pid)
    name = called(p)
    for i, (before, after) in enumerate(zip(p.args, record.args_after or [])):
        if not same_value(after, before):
            fail(f"{name} modified its argument number {i + 1}; it must leave its inputs unchanged (copy them first).",
                 f"{name} 修改了它的第 {i + 1} 个参数；函数不得修改输入（请先复制）。")
    for k, before in p.kwargs.items():
        if not same_value((record.kwargs_after or {}).get(k), before):
            fail(f"{name} modified its argument {k}; it must leave its inputs unchanged.",
                 f"{name} 修改了参数 {k}；函数不得修改输入。")


def expect_all_unmodified(evidence, pids):
    """Every call among pids that returned left its arguments as they were (expect_unmodified).

    A call that raised, hung or was not run has no arguments to compare: the check of its values has already charged
    it, and charging it here again would cost a second check for one fault (issue 20: the homework's scalar weights
    w1 ... w8 raise at sizes other than 2 x 2, and leave their arguments alone). But the calls on the homework's own
    inputs (role HOMEWORK, the same at every seed) must have returned: a function that does not run on them
    has nothing this check can credit (a stub, a constant that raises). Only those decide "nothing returned", so the
    check's verdict cannot change with the seed's random shapes (issue 17: same code, same grade)."""
    if not pids:
        fail("No probe was run for this check (a grader error; please tell the course staff).",
             "此项检查没有运行任何测试（评分器错误，请告知助教）。")
    anchors = [pid for pid in pids if evidence.probe(pid).role == P.HOMEWORK] or pids[:1]
    first = None
    for pid in anchors:
        try:
            evidence.answer(pid)
            break
        except CheckFailed as exc:
            first = first or exc
    else:
        raise first  # no call on the homework's inputs returned: that call's own message
    for pid in pids:
        try:
            evidence.answer(pid)
        except CheckFailed:
            continue
        expect_unmodified(evidence, pid)


def _equal(a, b):
    """Structural equality of two decoded answers (arrays by shape and value, modules by config and state)."""
    if isinstance(a, TensorValue) and isinstance(b, TensorValue):
        return a.dtype == b.dtype and _equal(a.array, b.array)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, ModuleValue) and isinstance(b, ModuleValue):
        return a.cls == b.cls and a.config == b.config and _equal(a.state, b.state) and _equal(a.children, b.children)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _numbers(answer):
    """The set of numbers in an answer's arrays (for telling a constant fill such as all zeros)."""
    if isinstance(answer, TensorValue):
        answer = answer.array
    if isinstance(answer, np.ndarray):
        return set(np.unique(answer).tolist()) if answer.dtype.kind in "biuf" and answer.size <= 10 ** 6 else {id(answer)}
    if isinstance(answer, dict):
        return set().union(*(_numbers(v) for v in answer.values())) if answer else set()
    if isinstance(answer, (list, tuple)):
        return set().union(*(_numbers(v) for v in answer)) if answer else set()
    return {("other", repr(answer)[:200])}


def follows_inputs(evidence, pids):
    """The anti-hard-coding rule: False when a function gives one and the same answer to probes whose
    right answers differ, i.e. it returns constants. Decided by the answers alone, so every seed
    gives the same verdict; None when it cannot be decided (a local `check`, or under two answers)."""
    if not evidence.has_hidden() or not pids:
        return None
    answers, wanted = [], []
    for pid in pids:
        record = evidence.report.answers.get(pid) if evidence.report is not None else None
        if record is None or record.status != "ok":
            continue
        answers.append(record.value)
        wanted.append(evidence.expected(pid))
    if len(answers) < 2:
        return None
    if all(_equal(wanted[0], w) for w in wanted[1:]):
        return None  # the right answers do not differ either: nothing to tell
    same = all(_equal(answers[0], a) for a in answers[1:])
    values = set().union(*(_numbers(a) for a in answers))
    # One answer for all inputs, or arrays filled with one number (zeros of the asked shape): constants.
    return not (same or len(values) <= 1)


def require_follows_inputs(evidence, pids, fn):
    if follows_inputs(evidence, pids) is False:
        fail(f"{fn} gives the same answer whatever its inputs (see the randomized checks of this section), so the "
             f"homework's numbers are not credited: fixed numbers earn nothing.",
             f"{fn} 无论输入如何都给出相同的结果（见本节的随机检查），因此不计作业数字的分数：返回固定的数字不得分。")


def all_pass(evidence, check, pids):
    """Run check on every probe; the first failure names its probe's sizes. No probe is a failure:
    a check with nothing to check must not pass (a renamed probe id would silently turn it off)."""
    if not pids:
        fail("No probe was run for this check (a grader error; please tell the course staff).",
             "此项检查没有运行任何测试（评分器错误，请告知助教）。")
    for pid in pids:
        try:
            check(evidence, pid)
        except CheckFailed as exc:
            p = evidence.probe(pid)
            sizes = _sizes(p)
            raise CheckFailed(exc.feedback + Msg(f" [randomized probe {pid}{sizes}]", f" [随机测试 {pid}{sizes}]")) from None


def _sizes(p):
    shapes = []
    for a in p.args + list(p.kwargs.values()):
        if isinstance(a, np.ndarray):
            shapes.append(str(tuple(a.shape)))
        elif isinstance(a, Tensor):
            shapes.append(str(tuple(a.array.shape)))
    return (": argument shapes " + ", ".join(shapes)) if shapes else ""


def _call(fn, probe):
    return f"{fn}({', '.join(f'{k}={v}' for k, v in probe.kwargs.items() if not isinstance(v, list))})"


def _trained_part(answer):
    """What a training trained: the model of train_char_lm's (model, losses), else the whole answer."""
    if isinstance(answer, (list, tuple)) and len(answer) == 2 and isinstance(answer[0], ModuleValue):
        return answer[0]
    return answer


def require_real_training(evidence, section, fn, untrained):
    """Training must happen (the training check's own evidence; issue 17): stored or pre-trained results fail here.

    `untrained(evidence, pid)` returns (True, "") when probe pid's answer is untrained, else (False, what it achieved).
    The tiny call's result must be untrained, and the small call's must not be the graded call's. A call that raised
    gives no evidence and costs only require_follows_arguments' check; with no evidence at all, this fails: training
    points need a sign that training happened. Above the small budgets, require_trains_at_another_seed is the evidence.
    """
    tiny, small = evidence.probe(P.tiny(section)), evidence.probe(P.small(section))
    raised = []
    try:
        evidence.answer(tiny.id)
    except CheckFailed as exc:
        raised.append(exc.feedback)
    else:
        ok, what = untrained(evidence, tiny.id)
        if not ok:
            fail(f"{_call(fn, tiny)} already gives a trained result ({what}), though the reference is untrained at so "
                 f"small a budget: training must run for the budget it is given, from its seed, not return stored results.",
                 f"{_call(fn, tiny)} 已给出训练好的结果（{what}），而参考实现在如此小的预算下并未训练好：训练必须按给定的预算、"
                 f"从给定的种子进行，不能返回保存好的结果。")
    try:
        got = evidence.answer(small.id)
    except CheckFailed as exc:
        raised.append(exc.feedback)
    else:
        if _equal(_trained_part(got), _trained_part(evidence.answer(P.train(section)))):
            fail(f"{_call(fn, small)} returns exactly what the graded {_call(fn, evidence.probe(P.train(section)))} "
                 f"returns: training must run for the budget it is given, not return stored results.",
                 f"{_call(fn, small)} 的结果与评分用的 {_call(fn, evidence.probe(P.train(section)))} 完全相同："
                 f"训练必须按给定的预算进行，不能返回保存好的结果。")
    if len(raised) == 2:
        raise CheckFailed(Msg(f"There is no sign that {fn} trains: it raised at both small budgets the grader uses to "
                              f"see that ({_call(fn, tiny)}, {_call(fn, small)}). The first: ",
                              f"无法确认 {fn} 确实在训练：它在评分器用来确认训练的两个小预算下都出错（{_call(fn, tiny)}、"
                              f"{_call(fn, small)}）。第一个：") + raised[0])


def require_trains_at_another_seed(evidence, section, fn, judge):
    """The graded training again at other seeds must pass too (the grader only: hidden probes; issue 17).

    `judge(evidence, pid)` is the section's training criterion, failing with its message. Each result must also differ
    from the graded one: the same result at two seeds is a stored one unless the training ignores its seed, which the
    tiny training must then show (two seeds, one result). That costs require_follows_arguments' check only. This is the
    evidence above the small budgets: a result stored for the graded budget, returned whatever the seed, fails here.
    """
    if not evidence.has_hidden():  # the student kit: it does not run the hidden trainings
        return
    graded = evidence.probe(P.train(section))
    others = [evidence.probe(pid) for pid in evidence.ids_of_role(graded.section, P.TRAIN_OTHER_SEED)]
    if not others:  # none planned (the test suite's plan for machinery tests; tests/test_other_seeds.py: the grader's
        return      # own plan always has them)
    seeds = [str(p.kwargs["seed"]) for p in [graded, *others]]
    seeds_en, seeds_zh = ", ".join(seeds[:-1]) + " and " + seeds[-1], "、".join(seeds)
    for other in others:
        try:
            judge(evidence, other.id)
        except CheckFailed as exc:
            raise CheckFailed(Msg(f"The grader trains at seeds {seeds_en}; at seed {other.kwargs['seed']}: ",
                                  f"评分器在种子 {seeds_zh} 下各训练一次；种子为 {other.kwargs['seed']} 时：")
                              + exc.feedback) from None
        if not _equal(_trained_part(evidence.answer(other.id)), _trained_part(evidence.answer(graded.id))):
            continue
        try:
            tiny = evidence.answer(P.tiny(section)), evidence.answer(P.tiny_other_seed(section))
            ignores_seed, raised = _equal(*tiny), False
        except CheckFailed:
            ignores_seed, raised = False, True  # a tiny training raised: nothing shows that the seed is ignored
        if not ignores_seed:
            shown, shown_zh = ("it raised", "它抛出了异常") if raised else ("two seeds give two results", "两个种子给出不同结果")
            fail(f"{_call(fn, other)} returns exactly what {_call(fn, graded)} returns, yet nothing shows that {fn} "
                 f"ignores its seed (at the tiny budget, {shown}): training must run for the budget and seed it is "
                 f"given, not return stored results.",
                 f"{_call(fn, other)} 与 {_call(fn, graded)} 的结果完全相同，但没有迹象表明 {fn} 忽略了种子"
                 f"（在极小预算下{shown_zh}）：训练必须按给定的预算与种子进行，不能返回保存好的结果。")


def require_follows_arguments(evidence, section, fn):
    """The training follows its arguments at a tiny budget (its own small check, about 5% of its section; issue 17):
    it runs there, two seeds give two results, the same seed after other global seeds gives the same one, and each
    hyperparameter twin gives another. A training that breaks one of these loses this check only."""
    tiny, other = evidence.probe(P.tiny(section)), evidence.probe(P.tiny_other_seed(section))
    call = _call(fn, tiny)
    for probe in (tiny, other):  # a raise: its own message, with the call named (a budget the homework never uses)
        try:
            evidence.answer(probe.id)
        except CheckFailed as exc:
            if not exc.feedback.en.startswith(fn):  # not this call's own failure (a missing function, no run at all)
                raise
            raise CheckFailed(Msg(f"{_call(fn, probe)}: ", f"{_call(fn, probe)}：") + exc.feedback) from None
    a, b = evidence.answer(tiny.id), evidence.answer(other.id)
    if _equal(a, b):
        fail(f"{fn} gives the same result for seed={tiny.kwargs['seed']} and seed={other.kwargs['seed']}: "
             f"it must use its seed.",
             f"{fn} 在 seed={tiny.kwargs['seed']} 与 seed={other.kwargs['seed']} 时结果相同：必须使用传入的种子。")
    if not _equal(evidence.answer(P.reseeded(section)), a):
        fail(f"{call} gives another result when called again with the same seed, after numpy's, torch's and random's "
             f"global generators were seeded differently: it must seed every generator it uses from its seed argument.",
             f"{call} 以相同的 seed 再次调用（numpy、torch 与 random 的全局生成器已用其他种子设置）时结果不同："
             f"必须用传入的 seed 为所用的每个随机数生成器设置种子。")
    twins = evidence.ids_of_role(tiny.section, P.TINY_WITH)
    if not twins:
        fail("No probe was run for this check (a grader error; please tell the course staff).",
             "此项检查没有运行任何测试（评分器错误，请告知助教）。")
    for pid in twins:  # the same tiny training with one hyperparameter changed: the one whose value is not tiny's
        key = _changed(tiny.kwargs, evidence.probe(pid).kwargs)
        if _equal(evidence.answer(pid), a):
            shown = lambda kw: (repr(kw[key]) if not isinstance(kw.get(key), list) else "other pairs") if key in kw \
                else "its default"
            fail(f"{fn} gives the same result with {key}={shown(evidence.probe(pid).kwargs)} as with "
                 f"{key}={shown(tiny.kwargs)} (at the same seed and budget): it must use its argument {key}.",
                 f"{fn} 在 {key}={shown(evidence.probe(pid).kwargs)} 与 {key}={shown(tiny.kwargs)} 时"
                 f"（相同种子与预算）结果相同：必须使用传入的参数 {key}。")


def _changed(base, twin):
    """The one argument whose value in twin's keyword arguments is not base's (absent counts as a value)."""
    missing = object()
    keys = [k for k in twin if not _equal(twin[k], base.get(k, missing))]
    if len(keys) != 1:
        raise ValueError(f"a hyperparameter twin changes one argument, not {keys}")
    return keys[0]
