"""kvp-dash started from a folder that holds packages of its own (an ML repository's workloads/, runners/, tui/):
every process kvp-dash starts imports kvp-dash's packages and the user's named file, never the folder's."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tui.cli.serve import viewer_command

ROOT = Path(__file__).resolve().parents[1]
KVP_DASH = Path(sys.executable).with_name("kvp-dash")


def _decoy_folder(tmp_path: Path) -> Path:
    for package in ("workloads", "runners", "tui"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(f"raise ImportError('the decoy {package} package was imported')\n")
    return tmp_path


def test_runners_and_preparation_never_import_the_working_folders_packages(tmp_path):
    """The convnet example has no param_specs: a preparation subprocess saves the PyTorch model's weights,
    then the runners train; all of them start in the decoy folder."""
    folder = _decoy_folder(tmp_path)
    shutil.copy(ROOT / "workloads/examples/convnet_workload.py", folder / "my_workload.py")
    result = subprocess.run([str(KVP_DASH), "check", "--workload", "my_workload.py", "--size", "tiny",
                             "--runners", "torch,keras/jax", "--output", str(tmp_path / "runs")],
                            cwd=folder, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "decoy" not in result.stdout + result.stderr
    assert "✓ parity verified" in result.stdout


def test_a_workload_file_still_imports_the_modules_beside_it(tmp_path):
    """Its own folder is on the path, after kvp-dash's packages: a helper module beside the file is found."""
    folder = _decoy_folder(tmp_path)
    source = (ROOT / "workloads/examples/tabular_workload.py").read_text()
    (folder / "my_sizes.py").write_text("WIDTH = 16\n")
    (folder / "my_workload.py").write_text("import my_sizes\n" + source)
    result = subprocess.run([str(KVP_DASH), "check", "--workload", "my_workload.py", "--size", "tiny",
                             "--runners", "torch,keras/torch", "--output", str(tmp_path / "runs")],
                            cwd=folder, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_served_viewer_does_not_import_the_folder_serve_started_in(tmp_path):
    """Each browser tab runs the viewer command in serve's folder: it must reach kvp-dash's own tui."""
    folder = _decoy_folder(tmp_path)
    # Through a shell, as textual-serve starts it.
    result = subprocess.run(viewer_command(tmp_path / "no-such-run"), shell=True, cwd=folder, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "is not a kvp-dash run folder" in result.stderr
