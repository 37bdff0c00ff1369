# expect: {"1": 10, "2": 0, "3": 15} message: "RecursionError"
# A line of 100,000 "[" on the control pipe, and an answer file of 100,000 "[": json.loads raises RecursionError,
# which the grader did not catch (the whole grade failed).
# FORGE
_send_raw = None


def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):
    workdir, pid = _current_probe("srn_forward_tanh")
    _os.write(int(_child_args()[1]), b"[" * 100000 + b"\n")
    with open(f"{workdir}/out/{pid}.json", "w") as f:
        f.write("[" * 100000)
    _send_done_and_wait(pid)
    return None
