"""--duration's budget: steady training time of a runner's own, counted as the figures count it."""

from runners.protocol import Metrics, Phase
from runners.session.launching.endings import DurationBudget


def _window(runner: str, step: int, t: float, seconds: float, warmup: bool = False) -> Metrics:
    return Metrics(runner, first_step=step, step=step, losses=[1.0], window_s=seconds, batch_size=8,
                   warmup=warmup, rss_bytes=0, device_bytes=None, device_peak_bytes=None,
                   device_reserved_bytes=None, t=t)


def test_the_budget_is_spent_by_steady_windows_only_and_once():
    budget = DurationBudget(2.0, total_steps=10**9)
    assert not budget.to_finish(Phase("torch", "warmup", t=0.0))
    assert not budget.to_finish(_window("torch", 0, t=5.0, seconds=5.0, warmup=True))  # compilation: not counted
    assert not budget.to_finish(_window("torch", 1, t=6.0, seconds=1.0))
    # Waiting for its turn from 6.5 to 20: the window that spans the wait is left out, as in the figures.
    assert not budget.to_finish(Phase("torch", "waiting", t=6.5))
    assert not budget.to_finish(Phase("torch", "resumed", t=20.0))
    assert not budget.to_finish(_window("torch", 2, t=20.2, seconds=13.7))
    assert not budget.to_finish(_window("keras/jax", 0, t=21.0, seconds=1.5))  # another runner's budget
    # Begun 0.2 s after the wait: the runner was settling, left out too (runners.protocol.SETTLING_S).
    assert not budget.to_finish(_window("torch", 3, t=21.2, seconds=1.0))
    assert budget.to_finish(_window("torch", 4, t=22.2, seconds=1.0))  # 1 + 1 = 2 s: spent
    assert not budget.to_finish(_window("torch", 5, t=23.0, seconds=0.5))  # asked once
    # A restarted runner starts its budget afresh.
    assert not budget.to_finish(Phase("torch", "restarting", t=23.5))
    assert not budget.to_finish(_window("torch", 0, t=25.0, seconds=1.5))
    assert budget.to_finish(_window("torch", 1, t=25.5, seconds=0.5))


def test_a_duration_run_lays_out_the_data_a_preset_run_would():
    """A time budget has no step count to size the epoch by: the epoch must not grow to the memory limit."""
    from runners.session.planning.plan import DURATION_STEP_CAP, make_plan

    for workload in ("mlp", "resnet18"):
        timed = make_plan(workload, device="cpu", duration_s=20, schedule="interleaved")
        stepped = make_plan(workload, device="cpu", schedule="interleaved")
        assert timed.settings.steps == DURATION_STEP_CAP and timed.duration_s == 20
        # The preset's epoch, or one pass over the generated pool: megabytes, not the old GiB per runner.
        assert stepped.workload.data_bytes(stepped.settings) <= timed.workload.data_bytes(timed.settings) < 256 * 2**20
        assert "20 s each" in timed.describe() and f"{stepped.settings.steps} steps" in stepped.describe()
