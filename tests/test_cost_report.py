"""tests/cost_report.py: the per-file cost report of `make test`."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_report_adds_each_files_durations(tmp_path):
    (tmp_path / "test_slow.py").write_text(
        "import time\n\ndef test_a():\n    time.sleep(0.3)\n\ndef test_b():\n"
        "    time.sleep(0.2)\n")
    (tmp_path / "test_fast.py").write_text("def test_c():\n    assert True\n")
    out = tmp_path / "cost.json"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.cost_report",
                          "--cost-json", str(out), "-p", "no:cacheprovider", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    costs = json.loads(out.read_text())["files"]
    slow = next(v for k, v in costs.items() if k.endswith("test_slow.py"))
    fast = next(v for k, v in costs.items() if k.endswith("test_fast.py"))
    assert slow >= 0.5 > fast
    lines = run.stdout.splitlines()
    assert "seconds per file (2 files" in run.stdout
    assert lines[-1].startswith("3 passed")  # pytest's own closing line stays last
