"""The kit's stored data: the visible probes, their expected values, and the homework model's shapes.

Written by the instructor's `make student-kit` (scripts/build_student_kit.py) from the reference;
read here with json and numpy.load(allow_pickle=False). No solution code is stored, only numbers.
"""
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hw8core.wire import from_spec, probe_from_spec

from .stored_oracle import StoredOracle

DATA = Path(__file__).with_name("data")


@dataclass
class Kit:
    probes: list
    api_names: list
    expected: dict
    state_shapes: dict
    pass_accuracy: float
    limits: dict
    costs: dict = None  # probe id -> the reference's seconds, for the trainings (how the sections are shared out)

    def cost(self, probe):
        return (self.costs or {}).get(probe.id, 0.01)

    def oracle(self):
        return StoredOracle(self.expected, self.state_shapes, self.pass_accuracy)


_KIT = None


def load_kit():
    global _KIT
    if _KIT is None:
        meta = json.loads((DATA / "kit.json").read_text(encoding="utf-8"))
        with np.load(DATA / "arrays.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        _KIT = Kit(probes=[probe_from_spec(s, arrays) for s in meta["probes"]], api_names=meta["api_names"],
                   expected={pid: from_spec(s, arrays) for pid, s in meta["expected"].items()},
                   state_shapes={cls: {k: tuple(v) for k, v in shapes.items()}
                                 for cls, shapes in meta["state_shapes"].items()},
                   pass_accuracy=float(meta["pass_accuracy"]), limits=meta["limits"], costs=meta.get("costs"))
    return _KIT
