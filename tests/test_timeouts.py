"""Probe time limits: from the reference's measured time, scaled by this machine's speed, never under a floor."""
import json

from grader import timeouts
from grader.probes import plan

from conftest import ROOT


def test_stored_timings_are_for_the_current_budgets():
    budgets = json.loads((ROOT / "reference" / "budgets.json").read_text())
    stored = timeouts.TIMINGS["budgets"]
    assert stored["train_binary_adder"]["iterations"] == budgets["binary_adder_iterations"]["budget"], "run make timings"
    assert stored["train_char_lm"]["epochs"] == budgets["char_lm_epochs"]["budget"], "run make timings"
    assert stored["train_seq2seq"]["epochs"] == budgets["seq2seq_epochs"]["budget"], "run make timings"


def test_limits_follow_the_machine_and_keep_their_floors(monkeypatch):
    probes = plan(0)
    monkeypatch.setattr(timeouts, "_speed", 1.0)
    base = timeouts.calibrate(probes)
    monkeypatch.setattr(timeouts, "_speed", 8.0)  # a machine eight times slower
    slow = timeouts.calibrate(probes)
    adder = "s4.train"
    assert slow[adder] == max(timeouts.TRAIN_FLOOR, 8 * timeouts.FACTOR * timeouts.TIMINGS["seconds"]["train_binary_adder"])
    assert slow[adder] > base[adder] >= timeouts.TRAIN_FLOOR
    assert all(v == timeouts.FLOOR for k, v in slow.items() if "train" not in k)
    assert slow["s4.train_tiny"] == timeouts.TRAIN_FLOOR  # twenty iterations: the floor decides


def test_the_machine_probe_measures_something():
    assert 0 < timeouts.probe_seconds() < 60
