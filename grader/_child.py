"""The sandboxed side of grading: runs a submission's cells, then answers probes.

This file runs in a child process started by grader.sandbox with `python -I`, as a copy in the
run's work folder, so it imports nothing of the grader and nothing beside the submission. Only
plain data goes back: a JSON event per line on the control pipe, and per probe a JSON file
with an .npz of arrays (read by the parent with allow_pickle=False).

    python -I -S _child.py WORKDIR CONTROL_FD
"""
import builtins
import json
import os
import sys
import time
import traceback

MAX_ITEMS = 10000  # longest list, dict or string that is sent back
MAX_ARRAY = 20_000_000  # elements in one array


class _Control:
    def __init__(self, fd):
        self.fd = fd

    def send(self, **event):
        data = (json.dumps(event) + "\n").encode()
        while data:
            data = data[os.write(self.fd, data):]


class _IPythonStub:
    """What `get_ipython()` returns: magics and shell lines become no-ops at grading time."""

    def run_line_magic(self, *args, **kwargs):
        return None

    def run_cell_magic(self, *args, **kwargs):
        return None

    def system(self, *args, **kwargs):
        return None

    getoutput = system

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _short_error(exc):
    """The exception in one line, and where in the submission it was raised."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = [f"{fs.filename.strip('<>')}, line {fs.lineno}" for fs in tb if fs.filename.startswith(("<cell", "<line"))]
    text = f"{type(exc).__name__}: {exc}"
    return {"type": type(exc).__name__, "message": text[:2000], "where": where[-3:],
            "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:]}


class Encoder:
    """Turns a returned value into JSON plus arrays, looking only at exact types.

    An object whose class is not one of the plain types below is described by its class
    name and nothing else, so lying __eq__, __array__ or __float__ methods are never called.
    """

    def __init__(self):
        self.arrays = {}

    def _array(self, arr):
        key = f"a{len(self.arrays)}"
        self.arrays[key] = arr
        return key

    def encode(self, v, depth=0):
        np = sys.modules.get("numpy")
        torch = sys.modules.get("torch")
        t = type(v)
        if depth > 20:
            return {"t": "object", "cls": "too deeply nested"}
        if v is None:
            return {"t": "none"}
        if t is bool:
            return {"t": "bool", "v": v}
        if t is int:
            return {"t": "int", "v": v} if abs(v) < 2 ** 63 else {"t": "object", "cls": "int (too large)"}
        if t is float:
            return {"t": "float", "v": float.hex(v)}
        if t is str:
            return {"t": "str", "v": v[:MAX_ITEMS], "truncated": len(v) > MAX_ITEMS}
        if t in (list, tuple):
            return {"t": t.__name__, "n": len(v), "items": [self.encode(x, depth + 1) for x in v[:MAX_ITEMS]]}
        if t is dict:
            items = {}
            for k in list(v)[:MAX_ITEMS]:
                if type(k) is not str:
                    return {"t": "object", "cls": "dict with a non-string key"}
                items[k] = self.encode(v[k], depth + 1)
            return {"t": "dict", "items": items}
        if np is not None and t is np.ndarray:
            if v.dtype.hasobject or v.dtype.fields is not None:
                return {"t": "object", "cls": f"numpy.ndarray of dtype {v.dtype}"}
            if v.size > MAX_ARRAY:
                return {"t": "object", "cls": f"numpy.ndarray with {v.size} elements (too large)"}
            return {"t": "ndarray", "ref": self._array(np.array(v, copy=True))}
        if np is not None and isinstance(v, np.generic) and t.__module__ == "numpy" and t is not np.object_:
            return {"t": "npscalar", "ref": self._array(np.array(v))}
        if torch is not None and t in (torch.Tensor, torch.nn.Parameter):
            dtype = str(v.dtype).replace("torch.", "")
            if v.numel() > MAX_ARRAY:
                return {"t": "object", "cls": f"torch.Tensor with {v.numel()} elements (too large)"}
            data = v.detach().cpu()
            if data.dtype in (torch.bfloat16, torch.float16):
                data = data.float()
            if data.is_complex() or not (data.dtype.is_floating_point or data.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool)):
                return {"t": "object", "cls": f"torch.Tensor of dtype {dtype}"}
            return {"t": "tensor", "dtype": dtype, "requires_grad": bool(v.requires_grad),
                    "ref": self._array(data.numpy().copy())}
        if torch is not None and isinstance(v, torch.nn.Module):
            return self._module(v, torch, depth)
        return {"t": "object", "cls": f"{t.__module__}.{t.__qualname__}"}

    def _module(self, m, torch, depth):
        base = next((c.__name__ for c in type(m).__mro__ if c.__module__.startswith("torch.nn")), None)
        config = {}
        for attr in ("input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first",
                     "bidirectional", "in_features", "out_features", "num_embeddings", "embedding_dim", "dropout"):
            val = m.__dict__.get(attr)
            if type(val) in (int, float, bool, str):
                config[attr] = val
        try:
            state = {k: self.encode(p, depth + 1) for k, p in torch.nn.Module.state_dict(m).items()}
            children = {k: self._module(c, torch, depth + 1) for k, c in torch.nn.Module.named_children(m)}
        except Exception as exc:  # a module whose state cannot be read
            return {"t": "object", "cls": f"{type(m).__qualname__} (state_dict failed: {exc})"[:300]}
        return {"t": "module", "cls": type(m).__qualname__, "torch_cls": base, "config": config,
                "state": state, "children": children}


def _decode_arg(spec, arrays, ns):
    """Rebuild a probe argument: plain data, arrays, tensors, or modules built from given weights."""
    t = spec["t"]
    if t == "json":
        return spec["v"]
    if t == "ndarray":
        return arrays[spec["ref"]].copy()
    if t == "tensor":
        import torch
        return torch.from_numpy(arrays[spec["ref"]].copy())
    if t == "list":
        return [_decode_arg(s, arrays, ns) for s in spec["items"]]
    if t == "tuple":
        return tuple(_decode_arg(s, arrays, ns) for s in spec["items"])
    if t == "dict":
        return {k: _decode_arg(s, arrays, ns) for k, s in spec["items"].items()}
    if t in ("torch_module", "student_module"):
        import torch
        if t == "torch_module":
            cls = {"RNNCell": torch.nn.RNNCell, "RNN": torch.nn.RNN, "Linear": torch.nn.Linear}[spec["cls"]]
        else:
            cls = ns.get(spec["cls"])
            if cls is None:
                raise NameError(f"name '{spec['cls']}' is not defined")
        module = cls(**spec["kwargs"])
        state = {k: torch.from_numpy(arrays[ref].copy()) for k, ref in spec["state"].items()}
        module.load_state_dict(state)
        return module
    raise ValueError(f"unknown argument kind {t}")


def _describe_namespace(ns, names):
    import inspect
    out = {}
    for name in names:
        if name not in ns:
            continue
        v = ns[name]
        kind = "class" if isinstance(v, type) else "function" if callable(v) else "value"
        try:
            sig = str(inspect.signature(v)) if kind != "value" else None
        except (TypeError, ValueError):
            sig = None
        out[name] = {"kind": kind, "signature": sig}
    return out


def main(workdir, control_fd):
    ctl = _Control(control_fd)
    with open(os.path.join(workdir, "job.json"), encoding="utf-8") as f:
        job = json.load(f)
    workdir = os.path.abspath(workdir)
    os.chdir(os.path.join(workdir, "cwd"))
    sys.argv = ["hw8"]
    sys.setrecursionlimit(10000)
    ns = {"__name__": "hw8_submission", "__builtins__": builtins, "get_ipython": _IPythonStub,
          "display": print}
    # torch, once the submission imports it, runs on one thread: OMP_NUM_THREADS=1 is set.

    skip = set(job["skip_cells"])
    labels = job.get("labels") or [f"cell {i + 1}" for i in range(len(job["cells"]))]
    for index, source in enumerate(job["cells"]):
        if index in skip:
            continue
        ctl.send(event="cell_start", cell=index)
        start = time.monotonic()
        error = None
        try:
            code = compile(source, f"<{labels[index]}>", "exec")
            exec(code, ns)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the next cell still runs
            error = _short_error(exc)
        ctl.send(event="cell_done", cell=index, error=error, seconds=round(time.monotonic() - start, 3))

    ctl.send(event="namespace", names=_describe_namespace(ns, job["api"]))
    try:
        import numpy
    except ImportError:
        numpy = None
    arrays = dict(numpy.load(os.path.join(workdir, "inputs.npz"), allow_pickle=False)) if numpy else {}
    outdir = os.path.join(workdir, "out")
    skip_probes = set(job.get("skip_probes", []))
    for probe in job["probes"][job["start_probe"]:]:
        if probe["id"] in skip_probes:
            continue
        ctl.send(event="probe_start", probe=probe["id"])
        answer, enc = answer_probe(probe, arrays, ns)
        write_answer(outdir, probe["id"], answer, enc)
        ctl.send(event="probe_done", probe=probe["id"])
    ctl.send(event="all_done")


def answer_probe(probe, arrays, ns, catch=BaseException):
    """Call the probe's function on its decoded inputs; the answer as JSON plus an Encoder's arrays.

    `catch` is BaseException here (sys.exit in a graded function is an answer, not the end);
    the notebook self-check passes Exception, so that a student's Ctrl-C still stops it.
    """
    start = time.monotonic()
    answer = {"id": probe["id"]}
    enc = Encoder()
    try:
        args = [_decode_arg(s, arrays, ns) for s in probe["args"]]
        kwargs = {k: _decode_arg(s, arrays, ns) for k, s in probe["kwargs"].items()}
        if probe["fn"] == "@call":  # call the first argument, e.g. a model built from given weights
            fn, args = args[0], args[1:]
        else:
            fn = ns.get(probe["fn"])
            if fn is None:
                raise NameError(f"name '{probe['fn']}' is not defined")
        if probe.get("seed") is not None:
            _seed_everything(probe["seed"])
        result = fn(*args, **kwargs)
        answer["result"] = enc.encode(result)
        answer["args_after"] = [enc.encode(a) for a in args]
        answer["kwargs_after"] = {k: enc.encode(v) for k, v in kwargs.items()}
    except catch as exc:
        answer["error"] = _short_error(exc)
    answer["seconds"] = round(time.monotonic() - start, 3)
    return answer, enc


def write_answer(outdir, probe_id, answer, enc):
    """probe_id.json and probe_id.npz in outdir, each replaced atomically."""
    numpy = sys.modules.get("numpy")
    tmp = os.path.join(outdir, probe_id + ".tmp")
    try:
        if numpy is not None:
            numpy.savez(tmp + ".npz", **enc.arrays)
            os.replace(tmp + ".npz", os.path.join(outdir, probe_id + ".npz"))
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(answer, f)
        os.replace(tmp, os.path.join(outdir, probe_id + ".json"))
    except BaseException as exc:  # e.g. an answer too large for the file-size cap
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"id": probe_id, "error": _short_error(exc)}, f)
        os.replace(tmp, os.path.join(outdir, probe_id + ".json"))


def _seed_everything(seed):
    import random
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def _site_packages_without_pth(workdir):
    """Started with -I -S: add the grading environment's site-packages (the parent names them:
    without `site`, a venv's own are not known here), but run none of their .pth files, so an
    editable install of the grader (a .pth pointing at its source tree) is not importable."""
    with open(os.path.join(workdir, "job.json"), encoding="utf-8") as f:
        paths = json.load(f).get("site_packages") or []
    for path in paths:
        if path not in sys.path:
            sys.path.append(path)


if __name__ == "__main__":
    _site_packages_without_pth(sys.argv[1])
    main(sys.argv[1], int(sys.argv[2]))
