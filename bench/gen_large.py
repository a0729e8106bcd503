"""Generate a large, valid `.dspx` file for the compiler benchmarks.

Usage: python bench/gen_large.py [LINES] > big.dspx
Each block declares an enum, a signature and a program with variables,
steps, constraints and objectives, numbered so that all names are unique.
"""

from __future__ import annotations

import sys

HEADER = """\
model mini = "openai/gpt-4o-mini"
model big = "openai/gpt-4o" {
  max_tokens: 512
  timeout: 30s
}
"""

BLOCK = """\
/// Topics of block {i}.
enum Topic{i} {{
  billing "charges, refunds, invoices"
  shipping
  other
}}

signature Answer{i} {{
  \"\"\"Answer the question from the context in a few words.\"\"\"
  in context: list<string> "passages that may contain the answer"
  in question: string
  out answer: string "often between 1 and 5 words" @len(1, 80)
  out topic: Topic{i}
  out confidence: float @range(0, 1)
}}

program qa{i} {{
  in question: string
  in context: list<string>
  out answer: string
  out topic: Topic{i}

  var reasoning: [predict, cot] = cot
  var model: [mini, big] = mini
  var temperature: float in 0.0..1.5 = 0.7
  var demos: int in 0..8 = 4

  step first = reasoning Answer{i}(context, question: question) {{
    model: model
    temperature: temperature
    demos: demos
  }}
  step second = predict Answer{i}(context: context, question: first.answer) {{
    model: mini
  }}

  return {{ answer: second.answer, topic: second.topic }}

  constraint "big model needs reasoning": model == big => reasoning == cot
  constraint reasoning == cot => temperature <= 1.0 and demos >= 0

  objective maximize exact_match(answer) weight 0.7
  objective minimize cost weight 0.3
}}

"""


def generate(lines: int) -> str:
    parts = [HEADER]
    total = HEADER.count("\n")
    i = 0
    while total < lines:
        block = BLOCK.format(i=i)
        parts.append(block)
        total += block.count("\n")
        i += 1
    return "".join(parts)


if __name__ == "__main__":
    sys.stdout.write(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
