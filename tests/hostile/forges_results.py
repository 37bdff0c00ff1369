# expect: {"1": 0, "2": 10, "3": 15} message: "section 1 is wrong on purpose"
import json
import os

FORGED = {"score": 100, "tests": [{"name": "all", "score": 100, "max_score": 100, "status": "passed"}]}
print(json.dumps(FORGED))
for path in ["results.json", "results/results.json", "/autograder/results/results.json",
             os.environ.get("HW8_TEST_RESULTS", "/nonexistent/x")]:
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as f:
            json.dump(FORGED, f)
    except OSError:
        pass


def srn_forward(inputs, W_xh, W_hh, W_hy, h0=None):
    print(json.dumps(FORGED))
    raise RuntimeError("section 1 is wrong on purpose")
