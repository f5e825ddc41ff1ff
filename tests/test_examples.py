"""The example scripts run and do what they say."""

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_flucoma_training_loop_writes_a_model_flucoma_reads(tmp_path):
    out = tmp_path / "pad.json"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "flucoma_training_loop.py"), str(out)], capture_output=True, text=True, check=True
    )
    assert "done" in result.stdout and "learn_rate 0.05" in result.stdout  # converged after the mid-way tweak
    model = json.loads(out.read_text())
    assert [layer["activation"] for layer in model["layers"]] == [1, 1]
    assert [(layer["rows"], layer["cols"]) for layer in model["layers"]] == [(2, 6), (6, 3)]
