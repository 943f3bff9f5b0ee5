"""The hypervisor's steal: measured between two readings, said in the verdict and the summary when it matters."""

import json
from collections import namedtuple

import pytest

from runners.session.monitoring import host_steal
from runners.session.monitoring.host_steal import StealMeter, steal_sentence

LinuxTimes = namedtuple("LinuxTimes", "user nice system idle iowait irq softirq steal guest guest_nice")
OtherTimes = namedtuple("OtherTimes", "user system idle")


def reading(steal: float, busy: float, guest: float = 0.0) -> LinuxTimes:
    """What psutil.cpu_times() says on Linux: guest time is inside user already."""
    return LinuxTimes(busy + guest, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, steal, guest, 0.0)


def test_the_meter_gives_steal_as_a_share_of_the_cpu_time_between_its_readings(monkeypatch):
    readings = iter([reading(steal=10.0, busy=990.0, guest=5.0), reading(steal=19.0, busy=1036.0, guest=50.0)])
    monkeypatch.setattr(host_steal.psutil, "cpu_times", lambda: next(readings))
    share = StealMeter().share()
    assert share == pytest.approx(9.0 / 100.0)  # guest time counted once: 9 stolen of 100 CPU seconds
    assert steal_sentence(share).startswith("the hypervisor took 9.0% of this machine's CPU during the run (steal")


def test_little_steal_or_none_to_read_says_nothing(monkeypatch):
    readings = iter([reading(steal=0.0, busy=100.0), reading(steal=1.0, busy=199.0)])
    monkeypatch.setattr(host_steal.psutil, "cpu_times", lambda: next(readings))
    assert StealMeter().share() == pytest.approx(0.01) and steal_sentence(0.01) == ""
    monkeypatch.setattr(host_steal.psutil, "cpu_times", lambda: OtherTimes(1.0, 1.0, 1.0))
    assert StealMeter().share() is None and steal_sentence(None) == ""


def test_a_run_on_a_shared_machine_says_so_in_its_verdict_and_summary(tmp_path):
    from runners.session.record.run_folder import RunFolder
    from runners.session.verdict.summary import finish_run
    from tests.test_confidence import taking_turns

    folder = RunFolder.create(tmp_path, "mlp")
    states = [taking_turns("keras/jax", [0.013] * 4, [10] * 4), taking_turns("torch", [0.010] * 4, [10] * 4)]
    _, text = finish_run(folder, states, "steal test", "mlp", 8, "cpu", host_steal=0.087)
    assert text.endswith("; the hypervisor took 8.7% of this machine's CPU during the run (steal: a shared virtual "
                         "machine), which slows whichever runner it hits and widens the intervals")
    summary = json.loads((folder.path / "summary.json").read_text())
    assert summary["host_steal"] == 0.087 and summary["verdict"] == text
    _, quiet = finish_run(folder, states, "steal test", "mlp", 8, "cpu", host_steal=0.004)
    assert "hypervisor" not in quiet
