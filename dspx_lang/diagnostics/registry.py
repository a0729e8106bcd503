"""The registry of diagnostic codes.

Contract: every code a pass may emit is registered here exactly once, with a
stable id (`E100`), a kebab-case name (`undefined-name`), a one-line summary,
and user documentation (what it means, why it matters, an example, the fix).
`docs/diagnostics.md` is generated from this table (`python -m
dspx_lang.diagnostics.docgen`) and a test keeps the two identical.
Ids starting with E are errors, W warnings, I information.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Code:
    id: str
    name: str
    summary: str
    why: str
    example: str
    fix: str


_TABLE: tuple[Code, ...] = (
    Code(
        "E001",
        "syntax-error",
        "The text does not follow the grammar.",
        "The parser says what it expected and recovers, so later errors in the same file "
        "are reported too. Invalid UTF-8, unterminated strings and comments, and "
        "expressions nested too deeply are reported with this code as well.",
        "program qa {\n  step answer = cot AnswerQuestion(question\n}   // expected ')'",
        "Add or remove the token the message names. `dspxc fmt` refuses to format a file "
        "with syntax errors, so fix them first.",
    ),
    Code(
        "E100",
        "undefined-name",
        "A name is used that is not declared in this file, its imports, or the program.",
        "Names are resolved before anything runs; a typo would otherwise fail at the first "
        "LM call. A close match is suggested ('did you mean').",
        "step answer = cot AnswerQuestion(quesion)   // did you mean 'question'?",
        "Correct the spelling (the quick fix applies the suggestion), declare the name, or "
        "import the file that declares it.",
    ),
    Code(
        "E101",
        "duplicate-definition",
        "The same name is declared twice in one scope.",
        "Top-level names are global to a file and its imports; fields, variables and steps "
        "are unique within their declaration. The second site points to the first.",
        'model mini = "openai/gpt-4o-mini"\nmodel mini = "openai/gpt-4.1-mini"',
        "Rename or delete one of the two declarations.",
    ),
    Code(
        "E102",
        "wrong-kind",
        "A name refers to the wrong kind of declaration.",
        "For example a signature where a model is expected, or a model used as a step's "
        "signature. The message says what kind was expected and what was found.",
        "step answer = cot mini(question)   // 'mini' is a model, not a signature",
        "Use a name of the expected kind.",
    ),
    Code(
        "E103",
        "import-error",
        "An imported file does not exist, cannot be read, or imports form a cycle.",
        "Imports are resolved relative to the importing file. A cycle would make names "
        "depend on themselves, so it is rejected.",
        'import "shared/modelz.dspx"   // no such file',
        "Fix the path, or break the cycle by moving shared declarations into a third file.",
    ),
    Code(
        "E200",
        "argument-type-mismatch",
        "A step argument's type does not fit the signature input it binds.",
        "`T` fits `T?`, `int` fits `float`, and `list<T>` needs `list<T>`; anything else "
        "would fail validation at run time.",
        "step s = predict Classify(text: 3)   // 'text' expects string, got int",
        "Pass a value of the declared type, or change the signature.",
    ),
    Code(
        "E201",
        "missing-argument",
        "A signature input is not bound by the step.",
        "Every input of the signature must be bound exactly once; the LM would otherwise "
        "see an empty field.",
        "step answer = cot AnswerQuestion(question)   // 'context' is not bound",
        "Add the missing argument (the quick fix adds `name: name`).",
    ),
    Code(
        "E202",
        "unknown-argument",
        "A step argument, setting or key is not known where it is used.",
        "Arguments must name signature inputs; settings and optimize keys come from a fixed "
        "list; an argument given twice is also reported.",
        "step s = predict Classify(text, langauge: \"en\")   // no input 'langauge'",
        "Remove it or correct its name (a close match is suggested).",
    ),
    Code(
        "E203",
        "bad-return",
        "The program's return does not produce its outputs, or with the wrong type.",
        "Every program output must be produced exactly once with a compatible type; "
        "`return STEP` takes every output from that step by name.",
        "return { answr: answer.answer }   // no output 'answr'",
        "Return each declared output with a value of its type.",
    ),
    Code(
        "E204",
        "unknown-field",
        "`step.field` names a field the step's signature does not output.",
        "Only declared outputs (plus `reasoning` for `cot`, `code` for `pot`) exist on a step.",
        "return { answer: answer.anser }",
        "Use one of the outputs the message lists.",
    ),
    Code(
        "E205",
        "step-order",
        "A step is used before it is defined, or steps form a cycle.",
        "Steps form a graph that must run in order; a reference to a later step or a cycle "
        "cannot be scheduled.",
        "step a = predict A(x: b.y)\nstep b = predict B(x: a.y)",
        "Reorder the steps so each uses only earlier ones.",
    ),
    Code(
        "E206",
        "invalid-check",
        "A field check is malformed.",
        "Checks become validation in the compiled code: `@range` needs a number field, `@len` "
        "a string or list, `@pattern` a valid regular expression, bounds need lo <= hi.",
        "out answer: string @range(0, 1)   // @range applies to numbers",
        "Use the check that fits the field's type, with valid arguments.",
    ),
    Code(
        "E207",
        "reserved-output-name",
        "A signature declares an output named `reasoning` or `code`.",
        "The `cot` and `pot` modules add these outputs themselves.",
        "out reasoning: string",
        "Rename the output.",
    ),
    Code(
        "E208",
        "signature-without-output",
        "A signature declares no `out` field.",
        "A step built on it would have nothing to produce.",
        "signature Classify {\n  in text: string\n}",
        "Add at least one `out` field.",
    ),
    Code(
        "E209",
        "invalid-python-reference",
        'A tool target or custom metric is not of the form "package.module:function".',
        "The reference is imported when the program runs; a malformed one could only fail "
        "then. The checker does not import it (imports can have side effects).",
        'tool search(query: string) -> string = "tools.search"',
        'Write "package.module:function".',
    ),
    Code(
        "E210",
        "no-model",
        "A step has no `model` setting and the file (with its imports) declares no model.",
        "A step without a model uses the first model the file declares; with none there is "
        "nothing to call.",
        "program p { ... step s = predict S(x) }   // no model anywhere",
        'Declare a model (`model mini = "openai/gpt-4o-mini"`) or set `model:` on the step.',
    ),
    Code(
        "E300",
        "default-outside-domain",
        "A variable's default is not a member of its domain.",
        "The default configuration is what runs before optimization; it must be valid.",
        "var demos: int in 0..8 = 12",
        "Pick a default inside the domain (the quick fix uses the nearest valid value).",
    ),
    Code(
        "E301",
        "bad-domain",
        "A variable's domain is empty or malformed.",
        "Bounds must satisfy lo <= hi, a choice needs members of one kind, `log` needs "
        "positive bounds, `step` must be positive.",
        "var t: float in 1.5..0.0",
        "Fix the bounds or the members.",
    ),
    Code(
        "E302",
        "constraint-type-error",
        "A constraint compares values of incompatible types.",
        "Constraints are checked exactly at compile time; comparing a variable to something "
        "outside its domain's type can never be meaningful.",
        "constraint reasoning == 3   // 'reasoning' is a module choice",
        "Compare the variable with members of its domain.",
    ),
    Code(
        "E303",
        "unsatisfiable-constraints",
        "No configuration satisfies every constraint.",
        "The optimizer would have nothing to search. The diagnostic names a minimal set of "
        "conflicting constraints as related locations.",
        "constraint demos > 4\nconstraint demos < 2",
        "Relax or remove one of the constraints listed.",
    ),
    Code(
        "E304",
        "infeasible-default",
        "The default configuration violates a constraint.",
        "The program runs with its defaults before optimization; they must be feasible.",
        "var model: [mini, local] = local\nvar reasoning: [predict, cot] = cot\n"
        "constraint model == local => reasoning == predict",
        "Change a default so every constraint holds.",
    ),
    Code(
        "W305",
        "dead-domain-value",
        "A domain value can never be chosen in any feasible configuration.",
        "The constraints exclude it everywhere, so it only makes the space look bigger.",
        "var demos: int in 0..8\nconstraint demos <= 4   // 5..8 are dead",
        "Remove the value from the domain, or relax the constraint that kills it.",
    ),
    Code(
        "W306",
        "redundant-constraint",
        "A constraint always holds.",
        "It never rules anything out, so it is probably not what was meant.",
        "var demos: int in 0..8\nconstraint demos >= 0",
        "Remove it or correct it.",
    ),
    Code(
        "W307",
        "unused-variable",
        "A variable is declared but used by no step setting or step module.",
        "Tuning it would change nothing the program does, yet it multiplies the search space.",
        "var temperature: float in 0.0..1.0   // no step uses it",
        "Use it in a step (e.g. `temperature: temperature`) or remove it (quick fix).",
    ),
    Code(
        "I308",
        "not-checked-statically",
        "A relation between variables could not be decided at compile time.",
        "Analysis is exact for finite spaces and sound for infinite ones: when it cannot "
        "decide, it says so instead of guessing.",
        "var t: float in 0.0..1.0 log\nconstraint t * t > 0.5",
        "Nothing is required; the constraint is still enforced during optimization.",
    ),
    Code(
        "E400",
        "unknown-objective",
        "An objective, metric or budget names something unknown.",
        'Metrics are exact_match, f1, contains, numeric_match and metric("module:function") '
        "over program outputs; cost, latency and tokens are measured.",
        "objective maximize exact_match(answr)",
        "Use a known metric over a program output.",
    ),
    Code(
        "W401",
        "weights-not-normalised",
        "Objective weights do not sum to 1.",
        "Weights are normalised before use, so the program still works; the warning makes "
        "the effective weights explicit.",
        "objective maximize exact_match(answer) weight 2\nobjective minimize cost weight 1",
        "Make the weights sum to 1.",
    ),
    Code(
        "E402",
        "grid-over-infinite-space",
        "A `grid` sampler is chosen for a space that is infinite (or too large to enumerate).",
        "Grid search enumerates every configuration; continuous domains have infinitely many.",
        "var t: float in 0.0..1.0\noptimize { sampler grid }",
        "Add `step S` to the float domain, guard the sampler with `when space_size <= N`, "
        "or use tpe/random.",
    ),
    Code(
        "E403",
        "unreachable-budget",
        "Even the cheapest feasible configuration's estimate exceeds a budget.",
        "Every configuration would be pruned, so nothing could be tried.",
        "budget cost <= $0.0000001",
        "Raise the budget or add cheaper options (smaller models, fewer demos).",
    ),
    Code(
        "W404",
        "unknown-price",
        "No price is known for a model, so cost estimates for it are unavailable.",
        "Prices come from the model declaration (`input_cost`, `output_cost`) or litellm's "
        "bundled price table.",
        'model mine = "openai/my-finetune"',
        "Declare `input_cost` and `output_cost` (USD per million tokens).",
    ),
    Code(
        "W405",
        "forecast-over-max-spend",
        "The optimization forecast exceeds `max_spend`.",
        "Trials x devset x per-call cost (plus demo bootstrapping and instruction proposals) "
        "would cost more than allowed; the message says how many trials fit.",
        "optimize { trials 400  max_spend $0.10 }",
        "Lower `trials`, use a smaller devset, or raise `max_spend`.",
    ),
    Code(
        "E406",
        "missing-capability",
        "A configuration needs a capability its model lacks.",
        "By litellm's model map: a prompt over the context window, or `react` tools on a "
        "model without function calling. Such configurations are pruned like constraints; "
        "it is an error when the default (or every feasible) configuration needs it.",
        "step s = react Research(q) { model: tiny  tools: [search] }",
        "Use a model with the capability, or another module.",
    ),
    Code(
        "W407",
        "capability-fallback",
        "A configuration uses a feature its model lacks, and the runtime will fall back.",
        "For example the `json` adapter on a model without structured output falls back to "
        "JSON in the prompt.",
        "adapter: json   // model has no response_schema support: prompt-based JSON",
        "Nothing is required; choose another model to use native structured output.",
    ),
    Code(
        "E500",
        "dataset-error",
        "A dataset file is missing, unreadable, or lacks a column the program needs.",
        "Datasets are checked before any call: only the first rows are read. Columns are "
        "mapped to program fields by name or by the dataset's mapping.",
        'dataset dev = "data/dev.jsonl"   // no such file',
        'Fix the path, or map the column with `{ field: "column" }`.',
    ),
    Code(
        "E501",
        "bad-test",
        "A test's input or expectation does not match the program's fields or types.",
        "Tests run real calls; a wrong field name would only fail later.",
        'test t for qa { input { questoin: "..." } }',
        "Use the program's input fields with values of their types; expect over outputs.",
    ),
)

CODES: dict[str, Code] = {code.id: code for code in _TABLE}
