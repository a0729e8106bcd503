"""The optimizer's artifact: one JSON file (never pickle) with what a run chose and found.

Contract:
- `Artifact` is the whole file (pydantic, frozen, unknown keys rejected). `save_artifact`
  writes it atomically (a temporary file renamed over the target); `load_artifact` parses and
  validates it, and given the IR `Package` of the program it will configure, checks that it
  still fits, else raises `ArtifactError` naming every difference and what to do.
- `config` holds values as the runtime takes them (`Program.with_config`): identifiers by
  name, numbers, bools, strings, and for an `instructions(...)` variable the chosen text.
  `instructions[var]` keeps the candidates (index 0 is the signature's own instructions)
  and which one was chosen; `demos[step]` the chosen demonstrations as {inputs, outputs}.
- Fits means: the program exists; it has exactly the artifact's variables and the chosen
  values pass the runtime's own checks (domains and constraints); its steps and their
  signatures' fields (names and types) are those the artifact recorded; demos belong to
  existing steps and use their fields; instruction variables target the same signatures.
  An identical source hash fits by construction; a different one is fine when all of that
  holds (e.g. only docs or instructions text changed), and `Artifact.source_changed` says so.
- Importing this module loads pydantic and the IR schema only (the runtime may use it);
  `build_artifact` imports the optimizer's codec when called.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dspx_lang.ir import schema as ir
from dspx_lang.optimize.model import OptimizeError

if TYPE_CHECKING:
    from dspx_lang.optimize.model import OptimizeResult, TrialRecord
    from dspx_lang.space.solve import ConfigValue

FORMAT = "dspx-optimized"
VERSION = 1  # `Artifact.format` and `Artifact.version` hold these
Scalar = bool | int | float | str


class ArtifactError(OptimizeError):
    """The artifact cannot be read, or does not fit the program it is applied to."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Demo(_Model):
    inputs: dict[str, Any]
    outputs: dict[str, Any]


class Instructions(_Model):
    signature: str
    chosen: int = Field(ge=0)
    """Index into `candidates` (0: the signature's own instructions)."""
    candidates: tuple[str, ...]


class ObjectiveEntry(_Model):
    name: str
    direction: Literal["maximize", "minimize"]
    weight: float
    """Normalised: the weights sum to 1."""


class BudgetEntry(_Model):
    metric: Literal["cost", "latency", "tokens"]
    limit: float


class Point(_Model):
    """One configuration with what its trial measured."""

    trial: int
    config: dict[str, Scalar]
    values: dict[str, float]
    measured: dict[str, float | None]
    score: float | None = None


class StepInterface(_Model):
    signature: str
    inputs: tuple[str, ...]
    """`name: type` of each signature input, in order."""
    outputs: tuple[str, ...]


class Interface(_Model):
    """What the configuration was measured on: variables' domains and the steps."""

    variables: dict[str, ir.Domain]
    steps: dict[str, StepInterface]


class Price(_Model):
    """USD per million tokens, as the estimates and forecasts used them."""

    model_id: str
    input_cost: float | None = None
    output_cost: float | None = None


class StudyInfo(_Model):
    storage: str
    """The study's storage URL, password hidden."""
    name: str
    sampler: str
    seed: int
    trials: int
    """Scored trials in the study when the artifact was written."""
    max_spend: float | None
    spent: float
    stop_reason: str | None


class SourceRef(_Model):
    root: str
    hash: str


class Artifact(_Model):
    format: Literal["dspx-optimized"] = "dspx-optimized"
    version: Literal[1] = 1
    program: str
    compiler_version: str
    source: SourceRef
    created: str
    config: dict[str, Scalar]
    chosen: Point | None
    pareto: tuple[Point, ...] = ()
    objectives: tuple[ObjectiveEntry, ...]
    budgets: tuple[BudgetEntry, ...] = ()
    demos: dict[str, tuple[Demo, ...]] = Field(default_factory=dict)
    instructions: dict[str, Instructions] = Field(default_factory=dict)
    prices: dict[str, Price] = Field(default_factory=dict)
    study: StudyInfo
    interface: Interface
    source_changed: bool = Field(default=False, exclude=True)
    """Set by `load_artifact` when the program's source hash differs (but it fits)."""


# ---------------------------------------------------------------------- building


def interface_of(package: ir.Package, program: ir.ProgramDecl) -> Interface:
    steps = {}
    for step in program.steps:
        sig = package.signatures[step.signature]
        steps[step.name] = StepInterface(
            signature=sig.name,
            inputs=tuple(f"{f.name}: {ir.type_text(f.type)}" for f in sig.inputs),
            outputs=tuple(f"{f.name}: {ir.type_text(f.type)}" for f in sig.outputs),
        )
    return Interface(variables={v.name: v.domain for v in program.variables}, steps=steps)


def build_artifact(
    result: OptimizeResult,
    package: ir.Package,
    program: str,
    *,
    candidates: Mapping[str, Sequence[str]] | None = None,
    demos: Mapping[str, Sequence[Demo]] | None = None,
    prices: Mapping[str, Price] | None = None,
) -> Artifact:
    """The artifact of a run. `candidates[var]` are the proposed instruction texts of each
    `instructions(...)` variable (candidate k is `candidates[var][k - 1]`); `demos` the
    demonstrations chosen per step. Without a chosen configuration (no feasible trial) the
    artifact keeps the program's defaults and says so (`chosen` is None)."""
    decl = _program(package, program)
    texts = {
        v.name: (
            package.signatures[v.domain.signature].instructions,
            *(candidates or {}).get(v.name, ()),
        )
        for v in decl.variables
        if isinstance(v.domain, ir.InstructionsDomain)
    }

    def runtime_config(config: Mapping[str, ConfigValue]) -> dict[str, Scalar]:
        return {v.name: _runtime_value(v, config[v.name], texts) for v in decl.variables}

    def point(r: TrialRecord) -> Point:
        return Point(
            trial=r.number,
            config=runtime_config(r.config),
            values=r.values,
            measured=r.measured,
            score=r.score,
        )

    best = result.best
    config = runtime_config(best.config) if best else {v.name: v.default for v in decl.variables}
    instructions = {}
    for v in decl.variables:
        if isinstance(v.domain, ir.InstructionsDomain):
            chosen = texts[v.name].index(config[v.name]) if best else 0
            instructions[v.name] = Instructions(
                signature=v.domain.signature, chosen=chosen, candidates=texts[v.name]
            )
    return Artifact(
        program=program,
        compiler_version=package.compiler_version,
        source=SourceRef(root=package.source.root, hash=package.source.hash),
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        config=config,
        chosen=point(best) if best else None,
        pareto=tuple(point(r) for r in result.pareto),
        objectives=tuple(
            ObjectiveEntry(name=o.name, direction=o.direction, weight=o.weight)
            for o in result.objectives
        ),
        budgets=tuple(BudgetEntry(metric=b.metric, limit=b.limit) for b in result.budgets),
        demos={step: tuple(d) for step, d in (demos or {}).items()},
        instructions=instructions,
        prices=dict(prices or {}),
        study=StudyInfo(
            storage=result.storage,
            name=result.study,
            sampler=result.sampler,
            seed=result.seed,
            trials=len(result.trials),
            max_spend=result.max_spend,
            spent=result.spent,
            stop_reason=result.stop_reason,
        ),
        interface=interface_of(package, decl),
    )


def _runtime_value(
    var: ir.VariableDecl, value: ConfigValue, texts: Mapping[str, tuple[str, ...]]
) -> Scalar:
    from dspx_lang.space.solve import Candidate, Sym

    if isinstance(var.domain, ir.InstructionsDomain):
        index = value.index if isinstance(value, Candidate) else 0
        options = texts[var.name]
        if index >= len(options):
            raise ArtifactError(
                f"variable {var.name}: candidate {index} was chosen but only "
                f"{len(options) - 1} candidate text(s) were given"
            )
        return options[index]
    if isinstance(value, Sym):
        return value.name
    if isinstance(value, Candidate):
        raise ArtifactError(f"variable {var.name} is not an instructions variable")
    return value


# ---------------------------------------------------------------------- files


def save_artifact(artifact: Artifact, path: str | Path) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(artifact.model_dump_json(indent=2))
            f.write("\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_artifact(
    path: str | Path, package: ir.Package | None = None, program: str | None = None
) -> Artifact:
    """Read an artifact; with `package`, check it fits `program` (default: its own)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ArtifactError(f"cannot read the artifact {path}: {exc.strerror or exc}") from None
    try:
        artifact = Artifact.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise ArtifactError(
            f"{path} is not a dspx optimizer artifact (format {FORMAT} version {VERSION}): "
            f"{where}: {first['msg']}; write it again with `dspxc optimize`"
        ) from None
    if package is None:
        return artifact
    problems = fit_problems(artifact, package, program or artifact.program)
    if problems:
        raise ArtifactError(
            f"{path} does not fit program '{program or artifact.program}' any more: "
            + "; ".join(problems)
            + ". Run `dspxc optimize` again for the program as it is now."
        )
    changed = artifact.source.hash != package.source.hash
    return artifact.model_copy(update={"source_changed": changed})


def fit_problems(artifact: Artifact, package: ir.Package, program: str) -> list[str]:
    """Every reason the artifact does not fit `program` of `package` (empty: it fits)."""
    from dspx_lang.runtime.config import default_config, resolve_config
    from dspx_lang.runtime.errors import DspxConfigError

    decl = package.programs.get(program)
    if decl is None:
        return [f"the file has no program '{program}' (it has {', '.join(package.programs)})"]
    problems = []
    now = interface_of(package, decl)
    unknown = sorted(set(artifact.config) - set(now.variables))
    missing = sorted(set(now.variables) - set(artifact.config))
    if unknown:
        problems.append(f"unknown variable(s) {', '.join(unknown)}")
    if missing:
        problems.append(f"variable(s) {', '.join(missing)} were not optimized")
    if not unknown and not missing:
        try:
            resolve_config(decl, default_config(decl), artifact.config)
        except DspxConfigError as exc:
            problems.append(exc.message)
    for name, was in artifact.interface.steps.items():
        step = now.steps.get(name)
        if step is None:
            problems.append(f"step {name} is gone")
        elif step != was:
            problems.append(
                f"step {name} now uses {step.signature}({', '.join(step.inputs)}) -> "
                f"({', '.join(step.outputs)}), optimized with {was.signature}"
                f"({', '.join(was.inputs)}) -> ({', '.join(was.outputs)})"
            )
    added = sorted(set(now.steps) - set(artifact.interface.steps))
    if added:
        problems.append(f"new step(s) {', '.join(added)}")
    for step_name, step_demos in artifact.demos.items():
        step = now.steps.get(step_name)
        if step is None:
            continue  # reported above
        fields_in = {f.split(":")[0] for f in step.inputs}
        fields_out = {f.split(":")[0] for f in step.outputs}
        for demo in step_demos:
            extra = (set(demo.inputs) - fields_in) | (set(demo.outputs) - fields_out)
            if extra:
                problems.append(f"demos of step {step_name} use unknown field(s) {sorted(extra)}")
                break
    for var, chosen in artifact.instructions.items():
        domain = now.variables.get(var)
        if isinstance(domain, ir.InstructionsDomain) and domain.signature != chosen.signature:
            problems.append(
                f"variable {var} now holds instructions for {domain.signature}, "
                f"not {chosen.signature}"
            )
        elif domain is not None and not isinstance(domain, ir.InstructionsDomain):
            problems.append(f"variable {var} is no longer an instructions(...) variable")
    return problems


def _program(package: ir.Package, name: str) -> ir.ProgramDecl:
    decl = package.programs.get(name)
    if decl is None:
        raise ArtifactError(f"the package has no program '{name}'")
    return decl
