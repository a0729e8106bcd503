"""200 concurrent calls of one program, from threads and from asyncio: no cross-talk.

Each call carries a unique token; the fixture server answers with the token it finds in
the request, so an answer delivered to the wrong caller, a lost answer or a corrupted
shared structure (client pools, caches, history) shows up as a mismatch.
"""

from __future__ import annotations

import asyncio
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fixtures.lm_server import FakeLMServer, RecordedRequest

sys.path.insert(0, str(Path(__file__).parents[1] / "runtime"))
from program_kit import build, reply

from dspx_lang.runtime.lm import LMClient

ECHO = """
signature Echo {
  \"\"\"Repeat the token.\"\"\"
  in token: string
  out echoed: string
}

program echo {
  in token: string
  out echoed: string
  step e = predict Echo(token) { model: fx }
  return e
}
"""
TOKEN = re.compile(r"tok-\d+-[a-z]+")
CALLS = 200


def _answer(request: RecordedRequest) -> str:
    text = request.json["messages"][-1]["content"]
    found = TOKEN.search(text)
    return reply("chat", {"echoed": found.group(0) if found else "missing"})


def test_threads_and_tasks_get_their_own_answers(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    lm_server.respond_with(_answer)
    lm_server.delay_s = 0.02  # answers overlap, so calls are really concurrent
    program = build(tmp_path, ECHO, lm_server.base_url, client=lm_client)

    def call(i: int) -> tuple[str, str]:
        token = f"tok-{i}-thread"
        return token, program(token=token).echoed

    with ThreadPoolExecutor(max_workers=64) as pool:
        from_threads = list(pool.map(call, range(CALLS)))

    async def main() -> list[tuple[str, str]]:
        async def one(i: int) -> tuple[str, str]:
            token = f"tok-{i}-task"
            return token, (await program.acall(token=token)).echoed

        return await asyncio.gather(*(one(i) for i in range(CALLS)))

    from_tasks = asyncio.run(main())
    for token, echoed in from_threads + from_tasks:
        assert echoed == token
    assert len(lm_server.chat_requests) == 2 * CALLS  # distinct inputs: no cache hits
    assert lm_server.max_in_flight > 1  # really concurrent
    assert len(program.history) == 100  # the history keeps the last 100 calls, intact
    assert all(TOKEN.search(str(record)) for record in program.history)
