# expect: {"1": 10, "2": 0, "3": 15} message: "OverflowError"
# Well-formed JSON of the wrong shape, on the control pipe and in answer files; each used to fail the whole grade:
# - a cell_done whose error is a list (the loading report sliced error["message"]: AttributeError);
# - a probe_start whose probe is a list, sent between two probes (unhashable: TypeError in the grader's lookup);
# - answers whose numbers overflow: an int of Infinity, a float of 0x1p99999, an array of shape [2**64]
#   (OverflowError, which read_answer did not catch).
# FORGE
for _cell in range(2000):  # only the cell now running takes it: its error is a list, not the child's dict
    _send({"event": "cell_done", "cell": _cell, "error": [1, 2]})

_OVERFLOWS = [({"t": "int", "v": float("inf")}, {}),
              ({"t": "float", "v": "0x1p99999"}, {}),
              ({"t": "ndarray", "ref": "a0"}, {"a0": {"dtype": "<f8", "shape": [2 ** 64], "offset": 0}})]


def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):
    workdir, pid = _current_probe("srn_forward_tanh")
    result, layout = _OVERFLOWS[_calls["srn_forward_tanh"] % len(_OVERFLOWS)]
    with open(f"{workdir}/out/{pid}.json", "w") as f:
        _json.dump({"id": pid, "result": result, "args_after": [], "kwargs_after": {}, "arrays": layout,
                    "seconds": 0.0}, f)
    with open(f"{workdir}/out/{pid}.bin", "wb") as f:
        f.write(b"\0" * 8)
    _send({"event": "probe_done", "probe": pid})
    _send({"event": "probe_start", "probe": [pid]})
    import time
    time.sleep(1.0)
    return None
