"""Is a surviving mutant equivalent to the reference? A differential check, independent of the grader's probes.

Every contract function of the mutant's section is called, beside the reference's, on N_INPUTS random inputs drawn
here (own generator and ranges, wider than the probes': sizes from 1, widths 1-16, n_step 1-9, budgets from 0, every
optional argument sometimes left out), and everything the contract fixes is compared: return values (floats to
within round-off, logits up to a constant per row, as the contract allows), the arguments after the call
(they must be left unchanged), the models' layers and parameter shapes, and, for the training functions at
small budgets, the trained parameters and losses themselves (training is deterministic given its seed). One
difference makes the mutant non-equivalent.

Why N_INPUTS = 300: a mutant that differs from the reference on a share p of random inputs escapes all N of them
with probability (1 - p)^N <= exp(-p N). At N = 300 a mutant that differs on 1% of inputs or more is caught with
probability >= 95% (exp(-3) = 0.05), one that differs on 2% with >= 99.7%. A difference rarer than 1% of these
inputs is below what the grader's handful of probes could catch at every seed anyway, and each survivor's fate
is also argued in the report by reading its diff.

Run in a child process (`check`), so a mutant that hangs or crashes costs only its own verdict.
"""
import json
import subprocess
import sys
import types
from pathlib import Path

N_INPUTS = 300
ROOT = Path(__file__).resolve().parent.parent
FLOAT_TOL = {"float64": 1e-9, "float32": 1e-5}  # relative (|a - b| <= tol * (1 + |b|)): round-off, not a bug


def check(source, section, n=N_INPUTS, timeout=900):
    """{"equivalent": bool, "difference": what differed first (empty when equivalent)}."""
    proc = subprocess.run([sys.executable, __file__, str(section), str(n)], input=source, capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        return {"equivalent": False, "difference": "the differential check failed: " + proc.stderr[-500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


class Different(Exception):
    pass


def same(a, b, where):
    """Raise Different unless a (the mutant's) equals b (the reference's) as the contract compares them."""
    import numpy as np
    import torch
    if isinstance(b, torch.nn.Module):
        if not isinstance(a, torch.nn.Module) or _structure(a) != _structure(b):
            raise Different(f"{where}: module {_structure(a)} != {_structure(b)}")
        same(dict(a.state_dict()), dict(b.state_dict()), where + ".state_dict()")
    elif isinstance(b, torch.Tensor):
        if not isinstance(a, torch.Tensor) or a.shape != b.shape or a.dtype != b.dtype:
            raise Different(f"{where}: {_describe(a)} != {_describe(b)}")
        same(a.detach().numpy(), b.detach().numpy(), where)
    elif isinstance(b, np.ndarray):
        if not isinstance(a, np.ndarray) or a.shape != b.shape or a.dtype != b.dtype:
            raise Different(f"{where}: {_describe(a)} != {_describe(b)}")
        if b.dtype.kind == "f":
            tol = FLOAT_TOL.get(str(b.dtype), 1e-5)
            if not np.all(np.abs(a - b) <= tol * (1 + np.abs(b))) and not np.array_equal(a, b, equal_nan=True):
                raise Different(f"{where}: values differ, max {np.max(np.abs(a - b)):.3g}")
        elif not np.array_equal(a, b):
            raise Different(f"{where}: {a.tolist()} != {b.tolist()}")
    elif isinstance(b, dict):
        if not isinstance(a, dict) or set(a) != set(b):
            raise Different(f"{where}: keys {sorted(a) if isinstance(a, dict) else _describe(a)} != {sorted(b)}")
        for k in b:
            same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(b, (list, tuple)):
        if not isinstance(a, (list, tuple)) or len(a) != len(b):
            raise Different(f"{where}: {_describe(a)} != {_describe(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(b, float):
        if not isinstance(a, (float, int)) or abs(a - b) > 1e-9 * (1 + abs(b)):
            raise Different(f"{where}: {a!r} != {b!r}")
    elif type(a) is not type(b) and not (isinstance(a, int) and isinstance(b, int)) or a != b:
        raise Different(f"{where}: {a!r} != {b!r}")


def _structure(module):
    return [(name, type(m).__name__, m.extra_repr()) for name, m in module.named_modules() if name]


def _describe(v):
    shape = getattr(v, "shape", None)
    return f"{type(v).__name__}{'' if shape is None else tuple(shape)}{'' if not hasattr(v, 'dtype') else ' ' + str(v.dtype)}"


def same_shape(a, b, where):
    """What the contract fixes of a training's result: its kind, keys, shapes and dtypes, and the number of losses;
    not the trained numbers, which any right initialisation or order of updates may change."""
    import numpy as np
    import torch
    if isinstance(b, torch.nn.Module):
        if not isinstance(a, torch.nn.Module) or _structure(a) != _structure(b):
            raise Different(f"{where}: module {_structure(a) if isinstance(a, torch.nn.Module) else _describe(a)}"
                            f" != {_structure(b)}")
        same_shape(dict(a.state_dict()), dict(b.state_dict()), where + ".state_dict()")
    elif isinstance(b, (torch.Tensor, np.ndarray)):
        if type(a) is not type(b) or a.shape != b.shape or a.dtype != b.dtype:
            raise Different(f"{where}: {_describe(a)} != {_describe(b)}")
    elif isinstance(b, dict):
        if not isinstance(a, dict) or set(a) != set(b):
            raise Different(f"{where}: keys {sorted(a) if isinstance(a, dict) else _describe(a)} != {sorted(b)}")
        for k in b:
            same_shape(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(b, (list, tuple)):
        if not isinstance(a, (list, tuple)) or len(a) != len(b):
            raise Different(f"{where}: {_describe(a)} != {_describe(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            same_shape(x, y, f"{where}[{i}]")
    elif isinstance(b, float):
        if not isinstance(a, float) or not np.isfinite(a):
            raise Different(f"{where}: {a!r} is not a finite float")


def trains_like_the_reference(mod, section, seeds=(0, 1, 2)):
    """The training at the graded budget (reference/budgets.json) meets the grader's pass criterion at each seed, as
    the reference's does at every seed 0-49 (0-19 for seq2seq), judged by the trusted re-evaluation (grader.criteria):
    the part of a training's result that the contract fixes. Returns what failed, or ''."""
    import reference as R
    from grader.criteria import PASS_ACCURACY, binary_adder_accuracy, char_lm_loss
    budgets = json.loads((ROOT / "reference" / "budgets.json").read_text())
    for seed in seeds:
        if section == 4:
            w = mod.train_binary_adder(iterations=budgets["binary_adder_iterations"]["budget"], hidden_dim=16,
                                       alpha=0.1, seed=seed)
            acc = binary_adder_accuracy(w)
            if not acc >= PASS_ACCURACY:
                return f"train_binary_adder(seed={seed}) at the graded budget adds {acc:.2%} of pairs"
        elif section == 5:
            model, _ = mod.train_char_lm(epochs=budgets["char_lm_epochs"]["budget"], lr=0.05, seed=seed)
            ref = R.CharRNN()
            ref.load_state_dict(model.state_dict())
            if not char_lm_loss(ref) < 0.05 or R.predict(ref) != "ohlol":  # hw8core/checks/test_s5.py's criterion
                return f"train_char_lm(seed={seed}) at the graded budget: loss {char_lm_loss(ref):.4f}"
        elif section == 7:
            model = mod.train_seq2seq(epochs=budgets["seq2seq_epochs"]["budget"], lr=0.001, batch_size=3, seed=seed)
            ref = R.Seq2Seq()
            ref.load_state_dict(model.state_dict())
            wrong = [w for w, t in R.SEQ_DATA if R.translate(ref, w) != t]
            if wrong:
                return f"train_seq2seq(seed={seed}) at the graded budget mistranslates {wrong}"
    return ""


def same_logits(a, b, where):
    """Logits are fixed up to an additive constant per row (the contract: log_softmax is as right)."""
    import torch
    if not isinstance(a, torch.Tensor) or a.shape != b.shape:
        raise Different(f"{where}: {_describe(a)} != {_describe(b)}")
    same(a - a.mean(dim=-1, keepdim=True), b - b.mean(dim=-1, keepdim=True), where + " (each row less its mean)")


def call_both(name, mod, ref, args, kwargs, where, compare=same):
    """Call the mutant's and the reference's function on copies of the same inputs; compare results and arguments."""
    import copy
    a_args, a_kwargs = copy.deepcopy((args, kwargs))
    b_args, b_kwargs = copy.deepcopy((args, kwargs))
    try:
        want = getattr(ref, name)(*b_args, **b_kwargs)
    except Exception:
        return  # not an input the contract covers
    try:
        got = getattr(mod, name)(*a_args, **a_kwargs)
    except Exception as exc:
        raise Different(f"{where}: raised {type(exc).__name__}: {exc}") from None
    compare(got, want, where)
    same(list(a_args), list(b_args), where + " arguments after the call")
    same(a_kwargs, b_kwargs, where + " keyword arguments after the call")


def _sig(name, args, kwargs):
    import numpy as np
    import torch
    show = lambda v: (f"array{tuple(v.shape)}" if isinstance(v, (np.ndarray, torch.Tensor)) else
                      type(v).__name__ if isinstance(v, (torch.nn.Module, dict)) else repr(v))
    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def run(mod, section, n):
    import copy
    import random

    import numpy as np
    import torch
    import reference as R
    rng = np.random.default_rng(20260 + section)  # not the grader's probe seeds or generator

    def draw_optional(kwargs, key, make):
        c = rng.integers(3)
        if c == 1:
            kwargs[key] = None
        elif c == 2:
            kwargs[key] = make()

    trajectory = []  # the first input where a training's numbers differ from the reference's, if any

    def both(name, args, kwargs=None, compare=same):
        kwargs = kwargs or {}
        where = _sig(name, args, kwargs)
        if name.startswith("train_"):
            try:
                call_both(name, mod, R, args, kwargs, where, same)
            except Different as exc:  # not the same numbers: then the same kind of result, and (below) it trains
                trajectory.append(str(exc))
                call_both(name, mod, R, args, kwargs, where, same_shape)
            # the contract: the result follows from the arguments, seed included, whatever the global generators hold
            runs = []
            for other in (1, 2):
                random.seed(other)
                np.random.seed(other)
                torch.manual_seed(other)
                runs.append(getattr(mod, name)(*copy.deepcopy(args), **copy.deepcopy(kwargs)))
            same(runs[0], runs[1], where + " twice, after other global seeds")
        else:
            call_both(name, mod, R, args, kwargs, where, compare)

    for i in range(n):
        torch.manual_seed(i)
        if section in (1, 2):
            T, I, H, O = (int(v) for v in rng.integers([1, 1, 1, 1], [10, 7, 8, 6]))
            s = rng.uniform(0.2, 1.5)
            args = [rng.normal(size=(T, I)), rng.normal(size=(H, I)) * s, rng.normal(size=(H, H)) * s,
                    rng.normal(size=(O, H))]
            kwargs = {}
            draw_optional(kwargs, "h0", lambda: rng.normal(size=H))
            both("srn_forward" if section == 1 else "srn_forward_tanh", args, kwargs)
        elif section == 3:
            I, H, O, L, B, T = (int(v) for v in rng.integers([1, 1, 1, 1, 1, 1], [7, 7, 6, 4, 5, 8]))
            if rng.integers(4) == 0:
                both("build_rnncell", [])
                both("build_rnn", [])
            else:
                both("build_rnncell", [I, H, O])
                both("build_rnn", [I, H, O], {"num_layers": L})
            cell, rnn, lin = torch.nn.RNNCell(I, H), torch.nn.RNN(I, H, num_layers=L), torch.nn.Linear(H, O)
            x = torch.randn(T, B, I)
            kwargs = {}
            draw_optional(kwargs, "h0", lambda: torch.randn(B, H))
            with torch.no_grad():
                both("run_rnncell", [cell, lin, x], kwargs)
                kwargs = {}
                draw_optional(kwargs, "h0", lambda: torch.randn(L, B, H))
                both("run_rnn", [rnn, lin, x], kwargs)
        elif section == 4:
            width = int(rng.integers(1, 17))
            both("int2binary", [int(rng.integers(0, 2 ** width))], {"width": width})
            both("int2binary", [int(rng.integers(0, 256))])
            both("binary2int", [rng.integers(0, 2, size=int(rng.integers(1, 17))).astype(np.uint8)])
            H, width = int(rng.integers(1, 11)), int(rng.integers(1, 13))
            s = rng.uniform(0.5, 3)
            w = {"W_xh": rng.normal(size=(2, H)) * s, "W_hh": rng.normal(size=(H, H)) * s,
                 "W_hy": rng.normal(size=(H, 1)) * s}
            if rng.integers(3) == 0:
                a, b, kwargs = int(rng.integers(0, 128)), int(rng.integers(0, 128)), {}
            else:
                a, b = (int(v) for v in rng.integers(0, 2 ** (width - 1), size=2))
                kwargs = {"width": width}
            for fn in ("binary_adder_forward", "binary_adder_gradients", "add_binary"):
                both(fn, [w, a, b], kwargs)
            kwargs = {"iterations": int(rng.integers(0, 26)), "hidden_dim": int(rng.integers(1, 9)),
                      "alpha": float(rng.uniform(0.01, 1)), "seed": int(rng.integers(0, 1000))}
            if rng.integers(2):
                kwargs["width"] = int(rng.integers(2, 11))
            both("train_binary_adder", [], kwargs)
        elif section == 5:
            kwargs = {} if rng.integers(4) == 0 else dict(zip(
                ["num_class", "embedding_size", "hidden_size", "num_layers"],
                (int(v) for v in rng.integers([2, 1, 1, 1], [7, 13, 11, 4]))))
            torch.manual_seed(i)
            ref_model = R.CharRNN(**kwargs)
            for p in ref_model.parameters():
                p.data.mul_(float(rng.uniform(1, 3)))
            try:
                mut_model = mod.CharRNN(**kwargs)
                mut_model.load_state_dict(ref_model.state_dict())
            except Exception as exc:
                raise Different(f"CharRNN(**{kwargs}): {type(exc).__name__}: {exc}") from None
            same(mut_model, ref_model, f"CharRNN(**{kwargs})")
            x = torch.from_numpy(rng.integers(0, kwargs.get("num_class", 4),
                                              size=tuple(int(v) for v in rng.integers(1, [5, 10]))))
            with torch.no_grad():
                same_logits(mut_model(x), ref_model(x), f"CharRNN(**{kwargs}).forward(x{tuple(x.shape)})")
            if not kwargs:
                text = "".join(rng.choice(list("ehlo"), size=int(rng.integers(1, 10))))
                for extra in ([text], []):
                    with torch.no_grad():
                        want = R.predict(ref_model, *extra)
                        try:
                            got = mod.predict(mut_model, *extra)
                        except Exception as exc:
                            raise Different(f"predict(model, {extra}): {type(exc).__name__}: {exc}") from None
                    same(got, want, f"predict(model, *{extra})")
            both("train_char_lm", [], {"epochs": int(rng.integers(0, 5)), "lr": float(rng.uniform(0.005, 0.2)),
                                       "seed": int(rng.integers(0, 1000))})
        elif section == 7:
            n_step = int(rng.integers(1, 10))
            letters = list("abcdefghijklmnopqrstuvwxyz")
            word = lambda hi: "".join(rng.choice(letters, size=int(rng.integers(1, hi + 1))))
            if rng.integers(3) == 0:
                pairs, kwargs = [[word(5), word(5)] for _ in range(int(rng.integers(1, 7)))], {}
            else:
                pairs, kwargs = [[word(n_step), word(n_step)] for _ in range(int(rng.integers(1, 7)))], {"n_step": n_step}
            both("make_data", [pairs], kwargs)
            kwargs = {} if rng.integers(4) == 0 else {"n_class": int(rng.integers(3, 40)),
                                                       "n_hidden": int(rng.integers(1, 40))}
            torch.manual_seed(i)
            ref_model = R.Seq2Seq(**kwargs)
            for p in ref_model.parameters():
                p.data.mul_(float(rng.uniform(1, 4)))
            try:
                mut_model = mod.Seq2Seq(**kwargs)
                mut_model.load_state_dict(ref_model.state_dict())
            except Exception as exc:
                raise Different(f"Seq2Seq(**{kwargs}): {type(exc).__name__}: {exc}") from None
            same(mut_model, ref_model, f"Seq2Seq(**{kwargs})")
            C, Hd = kwargs.get("n_class", 29), kwargs.get("n_hidden", 128)
            B, S1, S2 = (int(v) for v in rng.integers(1, [5, 9, 9]))
            enc, dec = torch.eye(C)[rng.integers(0, C, size=(B, S1))], torch.eye(C)[rng.integers(0, C, size=(B, S2))]
            h = torch.randn(1, B, Hd)
            with torch.no_grad():
                same_logits(mut_model(enc, h, dec), ref_model(enc, h, dec), f"Seq2Seq(**{kwargs}).forward")
            if not kwargs:
                for extra in ([word(n_step), n_step], [word(5)]):
                    with torch.no_grad():
                        want = R.translate(ref_model, *extra)
                        try:
                            got = mod.translate(mut_model, *extra)
                        except Exception as exc:
                            raise Different(f"translate(model, {extra}): {type(exc).__name__}: {exc}") from None
                    same(got, want, f"translate(model, *{extra})")
            pairs = [[word(6), word(6)] for _ in range(int(rng.integers(1, 5)))]
            both("train_seq2seq", [pairs], {"epochs": int(rng.integers(0, 3)), "lr": float(rng.uniform(1e-4, 0.01)),
                                            "batch_size": int(rng.integers(1, 5)), "seed": int(rng.integers(0, 1000))})
    return _after(mod, section, trajectory)


def _after(mod, section, trajectory):
    """The verdict's note on training: exact, or a different trajectory that still trains as the contract asks."""
    if not trajectory:
        return ""
    failed = trains_like_the_reference(mod, section)
    if failed:
        raise Different(f"{trajectory[0]}; and {failed}")
    return (f"training numbers differ from the reference's ({trajectory[0]}), not fixed by the contract; shapes, keys "
            f"and loss counts equal on every input, and the graded budget meets the pass criterion at seeds 0, 1, 2")


def load(source):
    mod = types.ModuleType("hw8_mutant")
    mod.__file__ = "hw8.py"
    exec(compile(source, "hw8.py", "exec"), mod.__dict__)
    return mod


def main():
    sys.path.insert(0, str(ROOT))
    import torch
    torch.set_num_threads(1)
    section, n = int(sys.argv[1]), int(sys.argv[2])
    mod = load(sys.stdin.read())
    try:
        note = run(mod, section, n)
        verdict = {"equivalent": True, "difference": "", "inputs": n, "note": note}
    except Different as exc:
        verdict = {"equivalent": False, "difference": str(exc)}
    print(json.dumps(verdict))


if __name__ == "__main__":
    main()
