"""Instruction proposals for `instructions(SIG)` variables: the LM writes candidate texts.

Contract of `propose_instructions(client, model, package, program, variable, rows, *, count,
seed, temperature)`:
- Makes exactly `count` LM calls through `client` (pass a metered client so each call is
  authorized and charged), one per candidate; candidate i's prompt holds the signature (its
  instructions, fields, types, enum values with their descriptions), how the program uses it
  (its steps on that signature), a summary of the trainset (row count, the distribution of
  the answers) and a few seeded example rows, plus a style hint that differs per candidate,
  so the candidates differ and each prompt is deterministic (cacheable, resumable).
- Returns `count` distinct, non-empty texts (in candidate order): a reply is cleaned of
  quotes, code fences, Markdown headings and a leading "Instruction:" label; a reply that is
  empty, repeated, too long or copies a line of the prompt (small models echo it) is replaced
  by the signature's instructions followed by the candidate's style hint, so the space's
  candidate count always holds. The signature's own instructions are never a
  candidate (they are the variable's default).
- `proposal_messages` is the prompt alone (no call), for tests and `--dry-run` displays.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dspx_lang.ir import schema as ir
from dspx_lang.runtime.eval_results import json_data
from dspx_lang.runtime.lm import LMRequest

if TYPE_CHECKING:
    from dspx_lang.runtime.examples import Example
    from dspx_lang.runtime.lm import LMClient, ModelSpec

MARKER = "dspx instruction proposal"  # first words of every proposal prompt (tests find it)
EXAMPLE_ROWS = 6
MAX_TOKENS = 200  # as dspx_lang.space.estimate.PROPOSAL_COMPLETION_TOKENS
MAX_WORDS = 120
ECHO_WORDS = 4
STYLES = (
    "Be concise and direct: one or two sentences.",
    "Explain how to tell the possible answers apart, using their descriptions.",
    "Point out the confusions the examples suggest, and how to avoid them.",
    "Write as an expert annotator briefing a colleague: precise, with the key rules.",
    "Ask for a careful, literal reading of the input before answering.",
    "Name the exact form the answer must take, and what never to add.",
)
SYSTEM = (
    "You write the instructions a language model is given for one task. Reply with the "
    "instruction text only: no preamble, no quotes, no examples, no labels."
)
_LABEL = re.compile(r"^\s*(new\s+)?instructions?\s*[:\-]\s*", re.IGNORECASE)


def proposal_messages(
    package: ir.Package,
    program: ir.ProgramDecl,
    signature: ir.SignatureDecl,
    rows: Sequence[Example],
    *,
    index: int,
    count: int,
    seed: int,
) -> list[dict[str, str]]:
    steps = [s for s in program.steps if s.signature == signature.name]
    lines = [
        f"{MARKER} {index + 1} of {count}",
        "",
        f"Task: the signature {signature.name}.",
        f"Its current instructions: {signature.instructions!r}",
        "Inputs:",
        *(_field(package, f) for f in signature.inputs),
        "Outputs:",
        *(_field(package, f) for f in signature.outputs),
        f"The program '{program.name}' ({len(program.steps)} step(s)) runs it as: "
        + "; ".join(
            f"step {s.name} ({'one of the modules of variable ' if s.module_var else ''}{s.module})"
            for s in steps
        ),
    ]
    if rows:
        lines += ["", f"The training data has {len(rows)} rows.", *_distribution(signature, rows)]
        sample = list(rows)
        random.Random(seed * 1000 + index).shuffle(sample)
        lines.append("Some rows:")
        for row in sample[:EXAMPLE_ROWS]:
            shown = {**json_data(dict(row.inputs)), **json_data(dict(row.expected))}
            lines.append("- " + "; ".join(f"{k}: {_short(v)}" for k, v in shown.items()))
    lines += [
        "",
        f"Style for this candidate: {STYLES[index % len(STYLES)]}",
        "Write one new instruction for this task (at most 80 words).",
    ]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


async def propose_instructions(
    client: LMClient,
    model: ModelSpec,
    package: ir.Package,
    program: ir.ProgramDecl,
    signature: str,
    rows: Sequence[Example],
    *,
    count: int,
    seed: int,
    temperature: float = 0.7,
) -> list[str]:
    sig = package.signatures[signature]
    texts: list[str] = []
    for index in range(count):
        messages = proposal_messages(
            package, program, sig, rows, index=index, count=count, seed=seed
        )
        request = LMRequest(messages=messages, temperature=temperature, max_tokens=MAX_TOKENS)
        response = await client.acomplete(model, request)
        text = clean(response.text)
        if not usable(text) or text in texts or text == sig.instructions.strip():
            text = f"{sig.instructions.strip()} {STYLES[index % len(STYLES)]}"
            while text in texts:
                text += " Answer carefully."
        texts.append(text)
    return texts


def usable(text: str) -> bool:
    """A reply is an instruction, not an echo of the prompt: not empty, at most `MAX_WORDS`
    words, and sharing no run of `ECHO_WORDS` words with the prompt's own framing (the
    system message, the template's lines, the style hints; small models copy them). Words
    of the task itself (its instructions, fields, rows) may be reused freely."""
    words = _words(text)
    if not words or len(words) > MAX_WORDS:
        return False
    return not (_runs(words) & _FRAMING)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _runs(words: Sequence[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + ECHO_WORDS]) for i in range(len(words) - ECHO_WORDS + 1)}


_FRAMING = _runs(
    _words(
        " | ".join(
            (
                SYSTEM,
                *STYLES,
                f"{MARKER} of",
                "Task: the signature. Its current instructions:",
                "The training data has rows. Some rows:",
                "Style for this candidate:",
                "Write one new instruction for this task (at most 80 words).",
            )
        )
    )
)


def clean(text: str) -> str:
    text = text.strip()
    if text.startswith("```"):
        text = text.strip("`").split("\n", 1)[-1] if "\n" in text else text.strip("`")
    # A Markdown heading or an "Instruction:" label before the text is not part of it.
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    text = _LABEL.sub("", text.strip()).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def _field(package: ir.Package, f: ir.FieldDecl) -> str:
    line = f"- {f.name} ({ir.type_text(f.type)})"
    if f.description:
        line += f": {f.description}"
    decl = package.types.get(f.type.name or "") if f.type.kind == "enum" else None
    if isinstance(decl, ir.EnumDecl):
        values = ", ".join(
            v.name + (f" ({v.description})" if v.description else "") for v in decl.values
        )
        line += f"; exactly one of: {values}"
    return line


def _distribution(signature: ir.SignatureDecl, rows: Sequence[Example]) -> list[str]:
    lines = []
    for f in signature.outputs:
        seen: Counter[str] = Counter(
            _short(row.expected[f.name]) for row in rows if f.name in row.expected
        )
        if seen and len(seen) <= 20:
            common = ", ".join(f"{value} {n}" for value, n in seen.most_common())
            lines.append(f"Answers for {f.name}: {common}")
    return lines


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else repr(json_data(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def instruction_variables(program: ir.ProgramDecl) -> dict[str, str]:
    """variable -> signature, for every `instructions(...)` variable."""
    return {
        v.name: v.domain.signature
        for v in program.variables
        if isinstance(v.domain, ir.InstructionsDomain)
    }
