"""The pages' tick rules (``plot.js``: ``niceTicks``, ``logTicks``), run in node, checked by property.

The rules live in JavaScript only (the pages draw their own charts); this test runs
that very file in a node process and asks it for the ticks of ranges hypothesis picks.
Skips when node is not installed. (matplotlib's plots use matplotlib's own locators.)
"""

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import mlpkit.dashboard

PLOT_JS = Path(mlpkit.dashboard.__file__).with_name("static") / "plot.js"

#: A node program answering one JSON line [function, lo, hi, integer] with the JSON of its ticks.
SERVE = """
const plot = require(process.argv[1]);
require("readline").createInterface({ input: process.stdin }).on("line", (line) => {
  const [name, lo, hi, integer] = JSON.parse(line);
  console.log(JSON.stringify(plot[name](lo, hi, integer)));
});
"""

MANTISSAS = (1, 2, 5)


@pytest.fixture(scope="module")
def ticks():
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed: apt-get install nodejs to check the pages' tick rules")
    process = subprocess.Popen([node, "-e", SERVE, str(PLOT_JS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(name, lo, hi, integer=False):
        process.stdin.write(json.dumps([name, lo, hi, integer]) + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    yield ask
    process.stdin.close()
    process.wait(timeout=10)


def is_nice(step) -> bool:
    """1, 2 or 5 times a power of ten."""
    power = math.floor(math.log10(step) + 1e-9)
    return any(math.isclose(step, m * 10.0**power, rel_tol=1e-9) for m in MANTISSAS)


def assert_round_and_even(found):
    step, values = found["step"], found["ticks"]
    assert is_nice(step), step
    for value in values:
        assert math.isclose(value / step, round(value / step), abs_tol=1e-6), (value, step)
    gaps = [b - a for a, b in zip(values, values[1:])]
    assert all(math.isclose(gap, step, rel_tol=1e-6) for gap in gaps), (values, step)


def assert_covers(values, lo, hi):
    """The first tick at or below lo, the last at or above hi (to a millionth of a tick gap: rounding)."""
    slack = 1e-6 * min(b - a for a, b in zip(values, values[1:]))
    assert values[0] <= lo + slack and values[-1] >= hi - slack, (values, lo, hi)
    assert values == sorted(values) and len(set(values)) == len(values)


def assert_covers_in_ratio(values, lo, hi):
    """As assert_covers on a log axis, where rounding is relative: ``plot.js`` treats values within
    1e-9 decades of a tick as on it (10**10.00000000000004 is 1e10 and some floating-point noise)."""
    ratio = 10.0**1e-8
    assert values[0] <= lo * ratio and values[-1] >= hi / ratio, (values, lo, hi)
    assert values == sorted(values) and len(set(values)) == len(values)


magnitudes = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@st.composite
def ranges(draw):
    lo = draw(magnitudes)
    span = draw(st.floats(min_value=1e-6, max_value=1e9)) * max(1.0, abs(lo)) * 1e-3
    return lo, lo + max(span, abs(lo) * 1e-6, 1e-9)


@settings(max_examples=300, deadline=None)
@given(ranges())
def test_linear_ticks_are_round_cover_the_range_and_number_three_to_eight(ticks, bounds):
    lo, hi = bounds
    found = ticks("niceTicks", lo, hi)
    assert 3 <= len(found["ticks"]) <= 8, found
    assert_round_and_even(found)
    assert_covers(found["ticks"], lo, hi)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=-100, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_epoch_ticks_are_whole_numbers(ticks, first, length):
    found = ticks("niceTicks", first, first + length, True)
    assert 3 <= len(found["ticks"]) <= 8 and found["step"] >= 1 and all(float(t).is_integer() for t in found["ticks"])
    assert_round_and_even(found)
    assert_covers(found["ticks"], first, first + length)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-12, max_value=12), st.floats(min_value=1e-5, max_value=24))
@example(start=-1.9999999999999982, decades=12.0)  # hi = 1.00000000000004e10: its last tick is 1e10
def test_log_ticks_are_round_positive_cover_the_range_and_number_three_to_eight(ticks, start, decades):
    lo, hi = 10.0**start, 10.0 ** (start + decades)
    found = ticks("logTicks", lo, hi)
    values = found["ticks"]
    assert 3 <= len(values) <= 8, found
    assert all(value > 0 for value in values)
    if found["step"] is None:  # 1, 2, 5 x 10^n (or whole decades)
        assert all(is_nice(value) for value in values), values
    else:  # a narrow span: round linear ticks
        assert_round_and_even(found)
    assert_covers_in_ratio(values, lo, hi)


def test_the_ranges_of_the_issue_get_round_ticks(ticks):
    assert ticks("niceTicks", 0.02899, 1.809)["ticks"] == [0, 0.5, 1, 1.5, 2]
    assert ticks("niceTicks", 1, 553, True)["ticks"] == [0, 100, 200, 300, 400, 500, 600]
    assert ticks("logTicks", 0.02899, 1.809)["ticks"] == [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2]
    assert ticks("logTicks", 1e-5, 1)["ticks"] == [1e-5, 1e-4, 1e-3, 0.01, 0.1, 1]
