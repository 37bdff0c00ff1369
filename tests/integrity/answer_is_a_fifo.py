# expect: {"1": 10, "2": 0, "3": 15} message: "not a regular file"
# srn_forward_tanh's answer files become FIFOs that no one writes: a blocking open or read would wait forever.
# FORGE


def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):
    workdir, pid = _current_probe("srn_forward_tanh")
    _forge_answer(workdir, pid, 64, _os.mkfifo)
    _os.unlink(f"{workdir}/out/{pid}.json")
    _os.mkfifo(f"{workdir}/out/{pid}.json")
    _send_done_and_wait(pid)
    return None
