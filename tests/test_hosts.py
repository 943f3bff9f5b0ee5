"""--hosts: runners across hosts, two "hosts" on loopback addresses of this machine (nothing beyond 127.0.0.0/8)."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from runners.child.distributed.scratch import remove_orphans
from runners.protocol import Error, Metrics, Phase, Rank, decode_lines
from runners.session.hosts.gate import HostGate, read_message, send_message
from tests.conftest import FOUR_RUNS, runner_processes


def _dashboard(tmp_path, *options: str, runners: str = "torch") -> tuple[subprocess.Popen, str]:
    """A headless run waiting for one more host; returns it and the join command it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--workload", "mlp", "--runners", runners, "--hosts", "2",
         "--listen", "127.0.0.1:0", "--headless", "--output", str(tmp_path / "first"), *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    for line in process.stderr:
        if line.strip().startswith("kvp-dash join"):
            return process, line.strip()
    raise AssertionError(f"no join command printed: {process.communicate()}")


def _join(tmp_path, command: str) -> subprocess.Popen:
    address, token = re.match(r"kvp-dash join (\S+) --token (\S+)", command).groups()
    return subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "join", address, "--token", token, "--address", "127.0.0.2",
         "--output", str(tmp_path / "second")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _events(tmp_path, runner: str = "torch") -> list:
    path = next((tmp_path / "first").glob(f"*/{runner.replace('/', '-')}.events.jsonl"))
    events, bad = decode_lines(path.read_bytes().splitlines())
    assert not bad
    return events


ACROSS = ("torch", "keras/jax", "keras/tensorflow")  # one runner per engine: keras/torch goes through torchrun too


def test_runners_train_across_two_hosts_as_on_one_device(tmp_path, four_runs, started):
    """torch through torchrun's rendezvous, keras/jax through jax.distributed, keras/tensorflow through
    MultiWorkerMirroredStrategy (TF_CONFIG): the one-device run's losses."""
    steps = 32  # the one-device run's pool of 4,096 samples at batch 128: the same data (test_data_parallel)
    dashboard, command = _dashboard(tmp_path, "--steps", str(steps), "--batch-size", str(FOUR_RUNS["batch_size"]),
                                    runners=",".join(ACROSS))
    joined = _join(tmp_path, command)
    started += [dashboard, joined]
    assert joined.wait(timeout=300) == 0, joined.stderr.read()
    assert dashboard.wait(timeout=60) == 0, dashboard.stderr.read()
    _, one_device = four_runs
    for runner in ACROSS:
        events = _events(tmp_path, runner)
        ranks = {e.rank: e for e in events if isinstance(e, Rank)}
        assert sorted(ranks) == [0, 1] and ranks[1].host.endswith("127.0.0.2"), runner  # rank 1: the joined host
        losses = [loss for e in events if isinstance(e, Metrics) for loss in e.losses]
        reference = [loss for e in one_device[runner] if isinstance(e, Metrics) for loss in e.losses][:steps]
        assert losses == pytest.approx(reference, rel=1e-5), runner
    assert not runner_processes()


@pytest.fixture
def started():
    """Every dashboard and join process a test starts is gone after it, whatever the test's outcome."""
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


# The dashboard sees the host's connection go and stops the runners it carried, whatever their engine; two engines
# here: torchrun's, and jax.distributed, which catches SIGTERM unless the runner gives it back its default.
# keras/tensorflow (MultiWorkerMirroredStrategy) drops the same way in the extended tier.
@pytest.mark.parametrize("dropped", [("torch", "keras/jax"), pytest.param(ACROSS, marks=pytest.mark.extended)],
                         ids=["two-engines", "three-engines"])
def test_a_host_that_drops_fails_its_runners_and_the_dashboard_goes_on_to_the_end(tmp_path, started, dropped):
    dashboard, command = _dashboard(tmp_path, "--duration", "600", runners=",".join(dropped))
    joined = _join(tmp_path, command)
    started += [dashboard, joined]
    deadline = time.monotonic() + 120
    while not all(any(isinstance(e, Rank) and e.rank == 1 for e in _events_so_far(tmp_path, runner))
                  for runner in dropped):
        assert time.monotonic() < deadline and dashboard.poll() is None, "the joined host's ranks never reported"
        time.sleep(0.3)
    joined.send_signal(signal.SIGKILL)  # the host is gone, as when its machine or network dies
    assert dashboard.wait(timeout=60) == 1  # not hung in an all-reduce: the runners failed, the run ended
    for runner in dropped:
        events = _events(tmp_path, runner)
        assert [e.phase for e in events if isinstance(e, Phase)][-1] == "failed", runner
        errors = [e for e in events if isinstance(e, Error)]
        assert len(errors) == 1, (runner, errors)
        # Measured: the dropped connection is seen first ("host vm (127.0.0.2, node 1) dropped out of the run");
        # torch's rank here may also see its peer go in the all-reduce first, and then says so.
        assert "(127.0.0.2, node 1) dropped out" in errors[0].message or errors[0].message.startswith("rank 0 of 2")
    deadline = time.monotonic() + 20
    while runner_processes() and time.monotonic() < deadline:
        time.sleep(0.2)  # the joined host's runner and ranks follow it (parent-death signal)
    assert not runner_processes()
    # Its torch runner went by SIGKILL, as under a SIGKILLed dashboard: its temporary folders wait for the next
    # data-parallel runner to remove them (tests/test_data_parallel.py checks that); this machine's next is here.
    remove_orphans("ranks")
    remove_orphans("torchrun")


def _events_so_far(tmp_path, runner: str) -> list:
    paths = list((tmp_path / "first").glob(f"*/{runner.replace('/', '-')}.events.jsonl"))
    return decode_lines(paths[0].read_bytes().splitlines())[0] if paths else []


def test_the_listener_binds_the_address_named_and_admits_only_the_runs_token():
    gate = HostGate("127.0.0.1:0", hosts=2)
    assert gate._server.getsockname()[0] == "127.0.0.1"
    assert re.fullmatch(r"[0-9a-f]{32}", gate.token)  # nothing a shell or argparse reads as an option ("-…")
    answers = []

    def knock(token):
        with socket.create_connection(("127.0.0.1", gate.port)) as connection:
            send_message(connection, {"token": token, "host": "other", "address": "127.0.0.2"})
            answers.append(read_message(connection.makefile("rb")))

    knocking = threading.Thread(target=lambda: (knock("guess"), knock(gate.token)))
    knocking.start()
    joined = gate.wait({"nodes": 2, "runners": ["torch"]}, timeout_s=30)
    knocking.join(30)
    assert answers[0] == {"refused": "wrong or missing token"} and gate.refused == 1
    assert answers[1]["node_rank"] == 1 and [h.address for h in joined] == ["127.0.0.2"]
    # Sent once every host had joined: every host's TensorFlow worker, node 0's first (TF_CONFIG).
    assert [w.rsplit(":", 1)[0] for w in answers[1]["tf_workers"]] == ["127.0.0.1", "127.0.0.2"]
    for host in joined:
        host.connection.close()


def test_across_hosts_needs_a_listen_address_and_runners_that_can_span_hosts(tmp_path):
    def refusal(*options):
        result = subprocess.run([sys.executable, "-m", "tui.cli", "--workload", "mlp", "--hosts", "2", *options,
                                 "--output", str(tmp_path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        return result.stderr

    assert "--hosts needs --listen" in refusal()
    assert "keras/tensorflow trains on one device a host" in refusal("--listen", "127.0.0.1:0", "--runners",
                                                                      "keras/tensorflow", "--devices", "2")
    wrong = subprocess.run([sys.executable, "-m", "tui.cli", "join", "127.0.0.1:1", "--token", "x"],
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "cannot reach the dashboard" in wrong.stderr
    assert not list(tmp_path.iterdir())
