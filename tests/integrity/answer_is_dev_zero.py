# expect: {"1": 10, "2": 0, "3": 15} message: "is a symbolic link"
# srn_forward_tanh's array file is a link to /dev/zero, described as 2**40 bytes: read without a bound, the
# grader would grow until it ran out of memory.
# FORGE


def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):
    workdir, pid = _current_probe("srn_forward_tanh")
    _forge_answer(workdir, pid, 2 ** 40, lambda path: _os.symlink("/dev/zero", path))
    _send_done_and_wait(pid)
    return None
