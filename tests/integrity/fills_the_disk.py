# expect: {"1": 10, "2": 0, "3": 15} message: "a run may write"
# srn_forward_tanh fills the disk on its first call, then answers correctly: MODE "files" writes TOTAL MiB in files of
# 32 MiB (each under the 256 MiB a file may hold), "unlinked" the same in files it keeps open after removing their
# names (in no folder, yet on disk), "entries" makes COUNT empty files. Nothing else limited what a run wrote: on
# Gradescope a full disk leaves no room for results.json, and in batch it fails every classmate graded beside it.
import os as _os
import time as _time

_correct_tanh = srn_forward_tanh
_kept_open = []


def srn_forward_tanh(*args, **kwargs):
    if not _kept_open:
        _kept_open.append(None)
        if MODE == "entries":
            _os.mkdir("many")
            for _i in range(COUNT):
                open(f"many/{_i}", "w").close()
        else:
            _block = b"\1" * 2 ** 20
            for _i in range(TOTAL // 32):
                _f = open(f"fill{_i}", "wb")
                for _ in range(32):
                    _f.write(_block)
                _f.flush()
                if MODE == "unlinked":
                    _os.unlink(f"fill{_i}")
                    _kept_open.append(_f)
                else:
                    _f.close()
        _time.sleep(1.0)  # the grader looks twice a second
    return _correct_tanh(*args, **kwargs)
