"""A short fuzz run of the command: a few hundred cases of ``harness.py``, no failure.

The cases are the first ``CASES`` of ``bench/fuzz.py --seed 1``, run one at a time (two
of them also through the real executable); a hang costs the short timeout, and after one
hang of a kind of case (a FIFO, a device) the others of that kind get a second. The
message lists each distinct failure with its reproducer; run one again with
``bench/fuzz.py --case N --seed 1``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import Campaign, Limits, Runner, describe_failures, seeds_in

CASES = 300
SEED = 1


def test_fuzz_smoke(tmp_path: Path) -> None:
    runner = Runner(tmp_path / "jobs", Limits(timeout=5.0, short_timeout=1.0, hang_limit=1))
    campaign = Campaign(seeds_in(tmp_path), runner, tmp_path / "out", seed=SEED, jobs=1,
                        exec_every=150)
    campaign.run(range(CASES))
    assert campaign.done == CASES
    assert campaign.e2e["runs"] == 2
    if campaign.failures:
        pytest.fail(f"{campaign.failed} failures in {CASES} cases:\n"
                    + describe_failures(campaign), pytrace=False)
