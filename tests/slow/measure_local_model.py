"""Measure the local model server: prompt and generation speed, format following, max_tokens.

Not a test (speed is never asserted): a script that prints numbers.

    python tests/slow/measure_local_model.py                 # starts its own server, 2 threads
    python tests/slow/measure_local_model.py --threads 4
    python tests/slow/measure_local_model.py --base-url http://127.0.0.1:8080/v1

Prompt speed is prompt tokens over the time of a 1-token completion (a unique
first line defeats the server's prefix cache); generation speed is streamed
tokens over the time from the first streamed token to the last. Other load on
the machine lowers both: check `uptime` first.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
import uuid
from typing import Any

import httpx

from dspx_lang import local

PASSAGE = (
    "The committee met on Tuesday to review the quarterly figures. Revenue rose in the "
    "north and fell in the south, where two stores closed for renovation. "
) * 16
# A prompt the model answers at length (a story is sometimes refused in one line).
ESSAY = "Write a detailed 1000-word essay about the history of computing."
SYSTEM = "Reply with exactly one line of the form `Answer: <answer>` and nothing else."
QUESTIONS = [
    "What is 7 + 5?",
    "What is the capital of France?",
    "How many legs does a spider have?",
    "What is 9 times 6?",
    "Which planet is known as the red planet?",
    "Who wrote Romeo and Juliet?",
    "What is the square root of 81?",
    "What colour do you get by mixing blue and yellow?",
    "How many days are in a leap year?",
    "What is the chemical symbol for gold?",
    "Is 17 a prime number? Answer yes or no.",
    "What is 100 divided by 4?",
]


def chat(
    base_url: str, messages: list[dict[str, str]], **extra: Any
) -> tuple[dict[str, Any], float]:
    body = {"model": local.QWEN_CODER_05B.served_as, "messages": messages, "temperature": 0}
    started = time.perf_counter()
    response = httpx.post(f"{base_url}/chat/completions", json=body | extra, timeout=600)
    response.raise_for_status()
    return response.json(), time.perf_counter() - started


def stream_decode(base_url: str, messages: list[dict[str, str]], limit: int) -> tuple[int, float]:
    """Streamed completion: (content chunks, seconds from the first chunk to the last)."""
    body = {"model": local.QWEN_CODER_05B.served_as, "messages": messages, "temperature": 0}
    body |= {"max_tokens": limit, "stream": True}
    stamps = []
    with httpx.stream("POST", f"{base_url}/chat/completions", json=body, timeout=600) as response:
        for line in response.iter_lines():
            if line.startswith("data: {") and '"content"' in line:
                stamps.append(time.perf_counter())
    return len(stamps), stamps[-1] - stamps[0]


def measure(base_url: str, runs: int) -> None:
    prompt_speeds = []
    for _ in range(runs):
        text = f"Request {uuid.uuid4()}.\n{PASSAGE}\nSummarise the passage."
        reply, elapsed = chat(base_url, [{"role": "user", "content": text}], max_tokens=1)
        prompt_speeds.append(reply["usage"]["prompt_tokens"] / elapsed)
    prompt_tps = statistics.median(prompt_speeds)
    tokens = reply["usage"]["prompt_tokens"]
    print(f"prompt:     {prompt_tps:6.1f} tok/s  (median of {runs}, {tokens} tokens)")

    # Pooled over the runs: a run whose story ends early weighs less.
    tokens, seconds = 0, 0.0
    for _ in range(runs):
        text = f"Request {uuid.uuid4()}. {ESSAY}"
        count, decode = stream_decode(base_url, [{"role": "user", "content": text}], 200)
        tokens, seconds = tokens + count - 1, seconds + decode
    print(f"generation: {tokens / seconds:6.1f} tok/s  ({tokens} tokens over {runs} runs)")

    followed = 0
    for question in QUESTIONS:
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
        reply, _ = chat(base_url, messages, max_tokens=24)
        content = reply["choices"][0]["message"]["content"].strip()
        ok = re.fullmatch(r"Answer:\s*\S.*", content) is not None
        followed += ok
        print(f"  {'ok ' if ok else 'BAD'} {question!r} -> {content!r}")
    print(f"format:     {followed}/{len(QUESTIONS)} replies in the `Answer: <x>` form")

    story = [{"role": "user", "content": "Write a long story about a dragon who learns to code."}]
    reply, _ = chat(base_url, story, max_tokens=5)
    print(f"max_tokens=5 over HTTP:     completion_tokens={reply['usage']['completion_tokens']}")
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    model = f"openai/{local.QWEN_CODER_05B.served_as}"
    result = litellm.completion(
        model=model, api_base=base_url, api_key="none", messages=story, max_tokens=5, temperature=0
    )
    print(f"max_tokens=5 via litellm:   completion_tokens={result.usage.completion_tokens}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", help="use a running server instead of starting one")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.base_url:
        measure(args.base_url, args.runs)
        return
    with local.LocalServer(port=local.free_port(), threads=args.threads) as server:
        print(
            f"server: {server.base_url}, {args.threads} threads, model {local.require_model().name}"
        )
        measure(server.base_url, args.runs)


if __name__ == "__main__":
    main()
