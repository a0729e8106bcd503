"""Derive the examples' small data samples from the shared datasets.

Run from the repository root: `python examples/data/derive.py ../shared/data`.
Deterministic: it takes fixed row ranges (train from the first rows, dev from
later ones), never the test splits. Licences: GSM8K is MIT, the BIG-bench tasks
are Apache-2.0 (see README.md here).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
SENTENCE = re.compile(r"(?<=[.!?])\s+")


def rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write(name: str, items: list[dict[str, object]]) -> None:
    with (HERE / name).open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")


def gsm8k_final(answer: str) -> float:
    value = float(answer.rsplit("####", 1)[1].strip().replace(",", ""))
    return int(value) if value.is_integer() else value  # type: ignore[return-value]


def main(shared: Path) -> None:
    gsm = rows(shared / "gsm8k" / "train.jsonl")
    math = [{"question": r["question"], "answer": gsm8k_final(str(r["answer"]))} for r in gsm]
    write("gsm8k_train.jsonl", math[:40])
    write("gsm8k_dev.jsonl", math[1000:1040])
    qa = []
    for r in gsm[2000:2080]:
        sentences = SENTENCE.split(str(r["question"]).strip())
        if len(sentences) < 2:
            continue
        qa.append(
            {
                "context": sentences[:-1],
                "question": sentences[-1],
                "answer": str(gsm8k_final(str(r["answer"]))),
            }
        )
    write("qa_train.jsonl", qa[:30])
    dev = [
        {"context": q["context"], "question": q["question"], "gold_answer": q["answer"]}
        for q in qa[30:60]
    ]
    write("qa_dev.jsonl", dev)  # a different column name, to show dataset mappings
    intents = rows(shared / "bigbench" / "intent_recognition.jsonl")
    pairs = [{"utterance": r["utterance"], "intent": r["intent"]} for r in intents]
    write("intent_train.jsonl", pairs[:60])
    write("intent_dev.jsonl", pairs[60:120])
    counting = rows(shared / "bigbench" / "object_counting.jsonl")
    count = [{"question": r["question"], "answer": int(str(r["answer"]))} for r in counting]
    write("counting_train.jsonl", count[:30])
    write("counting_dev.jsonl", count[30:60])


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
