# expect: {"1": 10, "2": 10, "3": 15} message: "signal to the grader: refused"
# Signal 0 to the grader (the child's parent): allowed, any signal could stop it (default mode shares its uid).
import os as _os
try:
    _os.kill(_os.getppid(), 0)
    _answer = "allowed"
except OSError as _e:
    _answer = f"refused ({_e.strerror})"
raise RuntimeError(f"signal to the grader: {_answer}")
