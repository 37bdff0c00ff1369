"""The sandboxed side of grading: runs a submission's cells, then answers probes.

This file runs in a child process started by grader.sandbox with `python -I`, as a copy in the
run's work folder, so it imports nothing of the grader and nothing beside the submission. Only
plain data goes back: a JSON event per line on the control pipe, and per probe a JSON file
with an .npz of arrays (read by the parent with allow_pickle=False).

One file on purpose (about 500 lines): it is the only file copied into each run folder (hw8core.CHILD, by the
grader's sandbox and the kit's runner) and started there with `python -I -S`, where the grader cannot be
imported (Landlock hides it) and hw8core cannot be counted on (an editable install's .pth is not run), so
everything the child runs must be in it, defined before any student code exists.

    python -I -S child.py WORKDIR CONTROL_FD ACK_FD   # the grader's sandbox: events on an inherited pipe, and
                                                     # the parent's ack of each probe_start on another
    python child.py WORKDIR -                 # the student kit, on any platform: events appended to WORKDIR/events.jsonl
"""
import builtins
import json
import os
import select
import sys
import time
import traceback

_np = None  # numpy, imported before any student code (_load_numpy), so that the child writes with the real one


def _load_numpy():
    global _np
    try:
        import numpy
        _np = numpy
    except ImportError:  # started with -I -S, before the grading environment's site-packages are on sys.path
        pass


_load_numpy()

# The wire's vocabulary, spelled once, here (hw8core/wire.py imports it; this file can import nothing beside it):
# the kinds ("t") of a probe argument the parent sends (wire.to_spec -> _decode_arg), the kinds of an answer
# this child sends back (Encoder -> wire.decode), and the torch.nn classes a probe may build from given weights.
# tests/test_wire.py round-trips every kind of both lists.
ARGUMENT_KINDS = ("json", "ndarray", "tensor", "list", "tuple", "dict", "result_of", "torch_module", "student_module")
ANSWER_KINDS = ("none", "bool", "int", "float", "str", "list", "tuple", "dict", "ndarray", "npscalar", "tensor",
                "module", "object")
TORCH_MODULES = ("RNNCell", "RNN", "Linear")
MAX_ITEMS = 10000  # longest list, dict or string that is sent back
MAX_ARRAY = 20_000_000  # elements in one array

# Student code may rebind anything it can reach: builtins.open, io.open, os.path.*, json.dumps,
# numpy.savez ... The child's own machinery (control events, answers) must not run through those.
# C functions bound here stay the originals; for the Python-level helpers (json, traceback and
# whatever they call), the modules below are snapshotted now and put back while the child works
# (_Pristine), then handed back to the student's versions, whose code keeps behaving as written.
_os_open, _os_write, _os_close, _os_replace, _os_read = os.open, os.write, os.close, os.replace, os.read
_monotonic, _exec, _compile, _vars = time.monotonic, exec, compile, vars
_json_dumps = json.dumps
_select = select.select
_TRACKED = ("builtins", "io", "os", "posixpath", "json", "json.encoder", "json.decoder", "time", "traceback",
            "linecache", "inspect", "numpy", "sys")
_MISSING = object()
_RESULTS = {}  # probe id -> what the submission returned, in this child
_SNAPSHOT = []


def _snapshot():
    import inspect  # noqa: F401 - loaded now so that its snapshot is the original
    for name in _TRACKED:
        module = sys.modules.get(name)
        if module is not None:
            _SNAPSHOT.append((module, dict(_vars(module))))


class _Pristine:
    """Inside: the tracked modules as they were before any student code. Outside: as the student left them."""

    def __enter__(self):
        self.saved = []
        for module, original in _SNAPSHOT:
            d = _vars(module)
            changed = {k: d.get(k, _MISSING) for k, v in original.items() if d.get(k, _MISSING) is not v}
            if changed:
                self.saved.append((d, changed))
                for k in changed:
                    d[k] = original[k]
        return self

    def __exit__(self, *exc):
        for d, changed in self.saved:
            for k, v in changed.items():
                if v is _MISSING:
                    d.pop(k, None)
                else:
                    d[k] = v
        return False


def _write_file(path, data):
    """Write bytes to path through the os functions bound at start, replacing it atomically."""
    tmp = path + ".tmp"
    fd = _os_open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)  # Windows: no \r\n
    try:
        view = memoryview(data)
        while view:
            view = view[_os_write(fd, view):]
    finally:
        _os_close(fd)
    _os_replace(tmp, path)


def _flush_std():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


class _Control:
    def __init__(self, fd, ack_fd=None):
        self.fd, self.ack_fd = fd, ack_fd

    def wait_ack(self, seconds=10.0):
        """Wait (at most `seconds`) until the parent has taken in the event just sent: it then has every byte printed
        before it, and none printed after, so each probe's prints are its own (sandbox.Sandbox._acknowledge). Without
        an ack channel (the student kit), or on a late ack, the run goes on: only the output's split is at stake."""
        if self.ack_fd is None:
            return
        with _Pristine():
            try:
                ready, _, _ = _select([self.ack_fd], [], [], seconds)
                if ready:
                    _os_read(self.ack_fd, 1)
            except (OSError, ValueError):
                self.ack_fd = None

    def send(self, **event):
        with _Pristine():
            _flush_std()  # what was printed before this event reaches the parent before the event (sandbox._sync_output)
            data = (_json_dumps(event) + "\n").encode()
            while data:
                data = data[_os_write(self.fd, data):]


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


class _TextProgressBars:
    """Stand-in for what every student's Jupyter has and grading lacks: tqdm's notebook front-end (tqdm.notebook,
    tqdm_notebook) draws ipywidgets, and without them its bars raise ImportError when created. Where ipywidgets
    is missing, the module still loads, then its bars are tqdm's plain text ones. An import hook, so that a
    submission that never imports tqdm pays nothing."""

    def find_spec(self, name, path=None, target=None):
        if name != "tqdm.notebook":
            return None
        import importlib.machinery
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            if getattr(module, "IProgress", None) is None:  # no ipywidgets: text bars
                from tqdm.std import tqdm, trange
                module.tqdm = module.tqdm_notebook = tqdm
                module.trange = module.tnrange = trange
        spec.loader.exec_module = exec_module
        return spec


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
        np = _np
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
    if t == "result_of":
        if spec["probe"] not in _RESULTS:
            raise RuntimeError(f"this check needs the result of an earlier call ({spec['probe']}), which did not "
                               f"finish in this run")
        value = _RESULTS[spec["probe"]]
        return value if spec.get("index") is None else value[spec["index"]]
    if t in ("torch_module", "student_module"):
        import torch
        if t == "torch_module":
            if spec["cls"] not in TORCH_MODULES:
                raise ValueError(f"a probe may build only {TORCH_MODULES}, not {spec['cls']}")
            cls = getattr(torch.nn, spec["cls"])
        else:
            cls = ns.get(spec["cls"])
            if cls is None:
                raise NameError(f"name '{spec['cls']}' is not defined")
        module = cls(**spec["kwargs"])
        state = {k: torch.from_numpy(arrays[ref].copy()) for k, ref in spec["state"].items()}
        # The homework's parameters are given; entries of the student's own (a buffer, an unused layer)
        # keep their values. A homework parameter the model lacks is an error that names it.
        _missing, unexpected = module.load_state_dict(state, strict=False)
        if unexpected:
            raise AttributeError(f"{type(module).__name__} has no parameters named {sorted(unexpected)}, "
                                 f"which the homework's model has: keep the homework's attribute names")
        return module
    raise ValueError(f"unknown argument kind {t}")


def describe_namespace(ns, names):
    import inspect
    out = {}
    for name in names:
        if name not in ns:
            continue
        v = ns[name]
        kind = "class" if isinstance(v, type) else "function" if callable(v) else "value"
        try:
            sig = str(inspect.signature(v))[:2000] if kind != "value" else None  # a default's repr may be huge
        except (TypeError, ValueError):
            sig = None
        out[name] = {"kind": kind, "signature": sig}
    return out


def main(workdir, control_fd, ack_fd=None):
    ctl = _Control(control_fd, ack_fd)
    workdir = os.path.abspath(workdir)
    with open(workdir + "/job.json", encoding="utf-8") as f:
        job = json.load(f)
    arrays = {}
    if _np is not None:  # the probes' inputs, read before any student code runs
        with _np.load(workdir + "/inputs.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    os.chdir(workdir + "/cwd")
    sys.argv = ["hw8"]
    sys.setrecursionlimit(10000)
    ns = {"__name__": "hw8_submission", "__builtins__": builtins, "get_ipython": _IPythonStub,
          "display": print}
    _snapshot()
    sys.meta_path.insert(0, _TextProgressBars())
    # torch, once the submission imports it, runs on one thread: OMP_NUM_THREADS=1 is set.

    skip = set(job["skip_cells"])
    labels = job.get("labels") or [f"cell {i + 1}" for i in range(len(job["cells"]))]
    for index, source in enumerate(job["cells"]):
        if index in skip:
            continue
        ctl.send(event="cell_start", cell=index)
        start = _monotonic()
        error = None
        try:
            code = _compile(source, f"<{labels[index]}>", "exec")
            _exec(code, ns)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the next cell still runs
            with _Pristine():
                error = _short_error(exc)
        ctl.send(event="cell_done", cell=index, error=error, seconds=round(_monotonic() - start, 3))

    _stub_hung(ns, job.get("hung") or {})
    with _Pristine():
        names = describe_namespace(ns, job["api"])
    ctl.send(event="namespace", names=names)
    outdir = workdir + "/out"
    skip_probes = set(job.get("skip_probes", []))
    for probe in job["probes"][job["start_probe"]:]:
        if probe["id"] in skip_probes:
            continue
        ctl.send(event="probe_start", probe=probe["id"])
        ctl.wait_ack()
        answer, enc = answer_probe(probe, arrays, ns)
        write_answer(outdir, probe["id"], answer, enc)
        ctl.send(event="probe_done", probe=probe["id"])
    with _Pristine():
        peak = _vm_peak_kb()
    ctl.send(event="all_done", vm_peak_kb=peak)


def _vm_peak_kb():
    """This process's peak address space (what RLIMIT_AS caps), where /proc tells it."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class HungEarlier(RuntimeError):
    pass


def _stub_hung(ns, hung):
    """Functions that hung or ended the process on an earlier call fail at once when called again,
    so that a caller of theirs (train calls gradients calls forward) does not hang in turn."""
    for key, verb in hung.items():
        owner, _, attr = key.rpartition(".")
        target = ns.get(owner) if owner else None
        if owner and not isinstance(target, type):
            continue

        def stub(*args, _key=key, _verb=verb, **kwargs):
            raise HungEarlier(f"not run again: an earlier call of {_key} {_verb}")

        if owner:
            setattr(target, attr, stub)
        elif callable(ns.get(key)):
            ns[key] = stub


def _each(each, leading, rows, expect=None, most_wrong=None):
    """each(*leading, *row) for every row, in order; with `expect` (a value per row) and `most_wrong`, stop after the
    row at which that many answers were not their expected value: the rest can no longer change what is judged
    (the student kit's untrained adder: once 1% of all sums are wrong, it is below the pass mark whatever follows)."""
    out, wrong = [], 0
    expect = expect.tolist() if hasattr(expect, "tolist") else expect
    for k, row in enumerate(rows):
        got = each(*leading, *row)
        out.append(got)
        if expect is not None:
            try:
                same = bool(got == expect[k])
            except Exception:  # an array of several values, say: not the expected number
                same = False
            wrong += not same
            if wrong >= most_wrong:
                break
    return out


def answer_probe(probe, arrays, ns, catch=BaseException):
    """Call the probe's function on its decoded inputs; the answer as JSON plus an Encoder's arrays.

    `catch` is BaseException here (sys.exit in a graded function is an answer, not the end);
    the notebook self-check passes Exception, so that a student's Ctrl-C still stops it.
    """
    start = _monotonic()
    answer = {"id": probe["id"]}
    enc = Encoder()
    try:
        args = [_decode_arg(s, arrays, ns) for s in probe["args"]]
        kwargs = {k: _decode_arg(s, arrays, ns) for k, s in probe["kwargs"].items()}
        if probe["fn"] == "@call":  # call the first argument, e.g. a model built from given weights
            fn, args = args[0], args[1:]
        elif probe["fn"] == "@each":  # one function over many argument rows: [name, leading args, rows(, stop)]
            name, leading, rows, *stop = args
            each = ns.get(name)
            if each is None:
                raise NameError(f"name '{name}' is not defined")
            rows = rows.tolist() if hasattr(rows, "tolist") else rows  # an array of rows: Python numbers, as in a probe
            fn, args = (lambda *_: _each(each, leading, rows, *stop)), []
        else:
            fn = ns.get(probe["fn"])
            if fn is None:
                raise NameError(f"name '{probe['fn']}' is not defined")
        if probe.get("seed") is not None:
            _seed_everything(probe["seed"])
        result = fn(*args, **kwargs)
        _RESULTS[probe["id"]] = result  # a later probe may take it (ResultOf), e.g. a trained model
        with _Pristine():
            answer["result"] = enc.encode(result)
            answer["args_after"] = [enc.encode(a) for a in args]
            answer["kwargs_after"] = {k: enc.encode(v) for k, v in kwargs.items()}
    except catch as exc:
        with _Pristine():
            answer["error"] = _short_error(exc)
    answer["seconds"] = round(_monotonic() - start, 3)
    return answer, enc


def write_answer(outdir, probe_id, answer, enc):
    """probe_id.bin (the arrays' raw bytes, one after another) and probe_id.json (the answer, with each
    array's dtype, shape and offset); the parent reads them back with numpy.frombuffer, never a pickle."""
    base = outdir + "/" + probe_id
    with _Pristine():
        try:
            chunks, offset, layout = [], 0, {}
            for key, arr in enc.arrays.items():
                data = arr.tobytes()
                layout[key] = {"dtype": arr.dtype.str, "shape": list(arr.shape), "offset": offset}
                chunks.append(data)
                offset += len(data)
            _write_file(base + ".bin", b"".join(chunks))
            _write_file(base + ".json", _json_dumps({**answer, "arrays": layout}).encode())
        except BaseException as exc:  # e.g. an answer too large for the file-size cap
            _write_file(base + ".json", _json_dumps({"id": probe_id, "error": _short_error(exc)}).encode())


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
    with open(workdir + "/job.json", encoding="utf-8") as f:
        paths = json.load(f).get("site_packages") or []
    for path in paths:
        if path not in sys.path:
            sys.path.append(path)


if __name__ == "__main__":
    _site_packages_without_pth(sys.argv[1])
    _load_numpy()
    if sys.argv[2] == "-":  # no fd passing on Windows: a file the parent polls
        control = os.open(os.path.join(sys.argv[1], "events.jsonl"),
                          os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0), 0o600)
    else:
        control = int(sys.argv[2])
    ack = int(sys.argv[3]) if len(sys.argv) > 3 else None  # the parent's acks of probe_start (grader.sandbox)
    if ack is not None:
        os.set_inheritable(ack, False)  # not handed on to what the submission starts
    main(sys.argv[1], control, ack)
