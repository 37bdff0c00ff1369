# expect: {"1": 10, "2": 0, "3": 15} message: "ended the whole Python process"
# A daemon that double-forks, calls setsid() and execs with an empty environment: no token, no
# session and no ancestor in common with the child. It also keeps the control pipe open, so the
# child's death must be noticed by polling, not by end-of-file.
import os

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execve("/bin/sleep", ["sleep", "603"], {})
    os._exit(0)
os.wait()


def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):
    os._exit(3)
