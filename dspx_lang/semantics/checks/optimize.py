"""The optimize block: keys, datasets and their columns, samplers (E202, E500, E402).

Contract: after `check_optimize`, each program with an optimize block has an
`OptimizeInfo`. Datasets it uses are checked for the columns the program needs
(required inputs and the outputs its metrics read, through the dataset's
mapping), on their first rows only. Which sampler is chosen (and E402, a
grid over an infinite space) is decided by the space analysis.
"""

from __future__ import annotations

from typing import Any

from dspx_lang.datasets import DatasetError, columns_of, read_rows
from dspx_lang.diagnostics import Label
from dspx_lang.diagnostics import messages as msg
from dspx_lang.semantics import builtins as B
from dspx_lang.semantics.checks.datasets import SAMPLE_ROWS
from dspx_lang.semantics.checks.expressions import NUM_S, Resolver
from dspx_lang.semantics.context import Context, is_literal, literal_value
from dspx_lang.semantics.model import (
    OptimizeInfo,
    ProgramInfo,
    SamplerRule,
    SymbolKind,
)
from dspx_lang.semantics.types import OptionalT, Type, fits
from dspx_lang.syntax import ast


def check_optimize(ctx: Context) -> None:
    for program in ctx.model.programs.values():
        blocks = program.node.optimize_blocks()
        for extra in blocks[1:]:
            ctx.error(
                "E202",
                msg.optimize_twice(),
                program.file,
                extra.span,
                related=[Label(program.file, blocks[0].span, "the first block is here")],
            )
        if blocks:
            program.optimize = _block(ctx, program, blocks[0])


def _block(ctx: Context, program: ProgramInfo, node: ast.OptimizeDecl) -> OptimizeInfo:
    path = program.file
    info = OptimizeInfo(node)
    seen: set[str] = set()
    facts = {name: (ctx.builtin(name, doc), NUM_S) for name, doc in B.SPACE_FACTS.items()}
    resolver = Resolver(ctx, path, facts, what="space fact")
    for item in node.items:
        key = item.key.text
        if key not in B.OPTIMIZE_KEYS:
            ctx.undefined(path, item.key, B.OPTIMIZE_KEYS, "optimize key", code="E202")
            continue
        if key in seen and key != "sampler":
            ctx.error("E202", msg.setting_twice(key), path, item.key.span)
            continue
        seen.add(key)
        if item.condition is not None and key != "sampler":
            ctx.error("E202", msg.when_only_sampler(), path, item.condition.span)
            continue
        _item(ctx, program, info, item, resolver)
    if info.trainset is None:
        ctx.error("E500", msg.no_trainset(), path, node.span)
    for dataset in (info.trainset, info.devset):
        if dataset is not None:
            _columns(ctx, program, node, dataset)
    return info


def _item(
    ctx: Context,
    program: ProgramInfo,
    info: OptimizeInfo,
    item: ast.OptimizeItem,
    resolver: Resolver,
) -> None:
    path = program.file
    key = item.key.text
    value = item.value
    literal = literal_value(value) if is_literal(value) else None
    if key in ("trainset", "devset"):
        if not isinstance(value, ast.NameRef):
            ctx.error("E200", msg.setting_type(key, "a dataset name"), path, value.span)
            return
        scope = ctx.model.files[path].scope
        if ctx.resolve(path, value.name, scope, (SymbolKind.DATASET,), "dataset"):
            setattr(info, key, value.name.text)
    elif key == "sampler":
        if not isinstance(value, ast.NameRef) or value.name.text not in B.SAMPLERS:
            if isinstance(value, ast.NameRef):
                ctx.undefined(path, value.name, B.SAMPLERS, "sampler", code="E202")
            else:
                ctx.error("E200", msg.setting_type(key, "a sampler name"), path, value.span)
            return
        ctx.refer(path, value.name, ctx.builtin(value.name.text, B.SAMPLERS[value.name.text]))
        condition = resolver.boolean(item.condition) if item.condition is not None else None
        if item.condition is None or condition is not None:
            info.samplers.append(SamplerRule(value.name.text, condition, item))
    elif key == "split":
        if not isinstance(literal, float | int) or isinstance(literal, bool) or not 0 < literal < 1:
            ctx.error("E200", msg.setting_type(key, "a fraction between 0 and 1"), path, value.span)
            return
        info.split = float(literal)
    elif key == "max_spend":
        if not isinstance(value, ast.MoneyLit) or value.value <= 0:
            ctx.error(
                "E200", msg.setting_type(key, "a positive amount such as $2.00"), path, value.span
            )
            return
        info.max_spend = value.value
    else:
        minimum = 0 if key == "seed" else 1
        if not isinstance(literal, int) or isinstance(literal, bool) or literal < minimum:
            expected = "a non-negative integer" if key == "seed" else "a positive integer"
            ctx.error("E200", msg.setting_type(key, expected), path, value.span)
            return
        setattr(info, key, literal)


def needed_fields(program: ProgramInfo) -> dict[str, Type]:
    """Fields a dataset must provide: required inputs and the outputs metrics read."""
    fields = {n: f.type for n, f in program.inputs.items() if not isinstance(f.type, OptionalT)}
    for objective in program.objectives:
        if objective.field is not None and objective.field in program.outputs:
            fields[objective.field] = program.outputs[objective.field].type
    return fields


def _columns(ctx: Context, program: ProgramInfo, node: ast.OptimizeDecl, name: str) -> None:
    dataset = ctx.model.datasets.get(name)
    if dataset is None:
        return
    item = next(
        i for i in node.items if isinstance(i.value, ast.NameRef) and i.value.name.text == name
    )
    related = [
        Label(dataset.symbol.file, dataset.symbol.span, f"dataset '{name}' is declared here")
    ]
    all_fields = {**program.inputs, **program.outputs}
    for field in dataset.mapping:
        if field not in all_fields:
            ctx.error(
                "E500",
                msg.mapping_unknown_field(field, program.name),
                program.file,
                item.value.span,
                related=related,
            )
    try:
        rows = read_rows(dataset.resolved_path, SAMPLE_ROWS)
        columns = columns_of(dataset.resolved_path, rows)
    except DatasetError:
        return  # reported at the declaration
    for field, field_type in needed_fields(program).items():
        column = dataset.mapping.get(field, field)
        if column not in columns:
            ctx.error(
                "E500",
                msg.missing_column(name, column, field, sorted(columns)),
                program.file,
                item.value.span,
                related=related,
            )
            continue
        if dataset.resolved_path.endswith(".csv"):
            continue
        for number, row in enumerate(rows, start=1):
            if column in row and not fits(_json_type(row[column]), field_type):
                ctx.error(
                    "E500",
                    msg.column_type(
                        name, column, number, str(field_type), str(_json_type(row[column]))
                    ),
                    program.file,
                    item.value.span,
                    related=related,
                )
                break


def _json_type(value: Any) -> Type:
    from dspx_lang.semantics.types import (
        BOOL,
        FLOAT,
        INT,
        STRING,
        UNKNOWN,
        ListT,
        LiteralsT,
        MapT,
    )

    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return LiteralsT((value,))  # fits string, and an enum or union that has the value
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return ListT(STRING)
        elems = {_json_type(v) for v in value}
        return ListT(elems.pop() if len(elems) == 1 else UNKNOWN)
    if isinstance(value, dict):
        return MapT(UNKNOWN)
    return UNKNOWN
