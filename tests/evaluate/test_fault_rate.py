"""Issue 8's fault-rate target: an evaluation under a 20 % fault rate (429, 5xx, resets,
truncated and invalid JSON, wrong types, empty answers, requests held past the timeout)
completes with every example accounted for: scored, or recorded as an infrastructure failure.

1,000 examples (about 3 s against the zero-latency server); `DSPX_SOAK=1` runs 10,000.
"""

from __future__ import annotations

import os
from pathlib import Path

from eval_kit import answer, build, write_intent
from fixtures.lm_plugin import FAST_RETRY
from fixtures.lm_server import DEFAULT_FAULTS, FakeLMServer, Reply

from dspx_lang.runtime.lm import LMClient

EXAMPLES = 10_000 if os.environ.get("DSPX_SOAK") == "1" else 1000
FAULTS = (*DEFAULT_FAULTS, Reply.hold(), Reply.wrong_types(), Reply.empty())


async def test_every_example_is_accounted_for_under_faults(
    tmp_path: Path, lm_server: FakeLMServer
) -> None:
    lm_server.respond_with(lambda request: answer("weather"))
    lm_server.inject_faults(0.2, seed=8, faults=FAULTS)
    rows = [(f"request {i:04d}", "weather", "weather") for i in range(EXAMPLES)]
    source = write_intent(tmp_path, lm_server.base_url, rows=rows, retries=2, timeout="1s")
    out = tmp_path / "results.jsonl"
    with LMClient(cache=False, retry=FAST_RETRY) as client:
        result = await build(source, client).aevaluate("dev", concurrency=32, out=out)
    statuses = {r.status for r in result.results}
    assert [r.index for r in result.results] == list(range(EXAMPLES))
    assert statuses <= {"ok", "output_error", "infra_error"}
    assert result.count("infra_error") + result.scored == EXAMPLES
    assert result.count("ok") > EXAMPLES * 0.8
    assert all(r.scores == {"exact_match(intent)": 1.0} for r in result.results if r.status == "ok")
    infra = [r for r in result.results if r.status == "infra_error"]
    assert all("gave up after 3 attempts" in (r.error or "") for r in infra)
    assert result.objectives[0].count == result.scored
    assert len(out.read_text().splitlines()) == EXAMPLES + 1
    assert lm_server.in_flight == 0
