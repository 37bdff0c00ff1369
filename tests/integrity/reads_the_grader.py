# expect: {"1": 10, "2": 10, "3": 15} message: "grader files: reference refused; grader refused; hw8core refused"
# Reads a file of each folder the grader keeps from a child (sandbox._solution_folders), given by path in TARGETS:
# the solutions, the grader, and the checks' core package, wherever they are installed.
def _try(path):
    try:
        with open(path, "rb") as f:
            f.read(1)
        return "allowed"
    except OSError:
        return "refused"


raise RuntimeError("grader files: " + "; ".join(f"{k} {_try(v)}" for k, v in TARGETS.items()))
