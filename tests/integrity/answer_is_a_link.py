# expect: {"1": 10, "2": 0, "3": 15} message: "is a symbolic link"
# srn_forward_tanh answers every call with its answer's array file replaced by a symbolic link to a secret
# file, described as SIZE unsigned bytes, and says "done" itself, so that the grader reads it at once.
# FORGE


def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):
    workdir, pid = _current_probe("srn_forward_tanh")
    _forge_answer(workdir, pid, SIZE, lambda path: _os.symlink(TARGET, path))
    _send_done_and_wait(pid)
    return None
