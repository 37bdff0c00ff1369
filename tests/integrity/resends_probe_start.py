# expect: {"1": 0, "2": 10, "3": 15} message: "did not finish in time"
# srn_forward is correct but takes HANG seconds, far past its limit; a thread keeps resending its
# "probe started" event, which used to restart the grader's clock for the call.
import threading as _threading
import time as _time
# FORGE
_srn_forward_right = srn_forward


def _resend():
    _workdir, ids = _probes_of("srn_forward")
    while True:
        for pid in ids:
            _send({"event": "probe_start", "probe": pid})
        _time.sleep(0.1)


_threading.Thread(target=_resend, daemon=True).start()


def srn_forward(*args, **kwargs):
    _time.sleep(HANG)
    return _srn_forward_right(*args, **kwargs)
