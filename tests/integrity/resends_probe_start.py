# expect: {"1": 0, "2": 10, "3": 15} message: "did not finish in time"
# srn_forward is correct but takes HANG seconds, far past its limit; during the call a thread keeps resending the
# call's own "probe started" event, which used to restart the grader's clock for the call.
import threading as _threading
import time as _time
# FORGE
_srn_forward_right = srn_forward
_now = []


def _resend():
    while True:
        if _now:
            _send({"event": "probe_start", "probe": _now[-1]})
        _time.sleep(0.1)


_threading.Thread(target=_resend, daemon=True).start()


def srn_forward(*args, **kwargs):
    _now.append(_current_probe("srn_forward")[1])
    _time.sleep(HANG)
    return _srn_forward_right(*args, **kwargs)
