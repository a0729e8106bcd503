"""Dataset declarations: the file exists and its first rows parse (E500).

Contract: after `check_datasets`, every dataset declaration that binds has a
`DatasetInfo` (path resolved against the declaring file). Only the first
`SAMPLE_ROWS` rows are read; which columns a program needs is checked where
the dataset is used (the optimize block).
"""

from __future__ import annotations

import os

from dspx_lang.datasets import DatasetError, read_rows
from dspx_lang.diagnostics import messages as msg
from dspx_lang.semantics.context import Context
from dspx_lang.semantics.model import DatasetInfo
from dspx_lang.syntax import ast

SAMPLE_ROWS = 20


def check_datasets(ctx: Context) -> None:
    for path, unit in ctx.model.files.items():
        for decl in unit.module.decls:
            if not isinstance(decl, ast.DatasetDecl):
                continue
            symbol = unit.scope.get(decl.name.text)
            if symbol is None or symbol.span != decl.name.span:
                continue
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), decl.path.value))
            info = DatasetInfo(decl.name.text, symbol, decl.path.value, resolved)
            symbol.detail = decl.path.value
            for setting in decl.mapping or []:
                if not isinstance(setting.value, ast.StringLit):
                    ctx.error("E200", msg.mapping_value(setting.key.text), path, setting.value.span)
                    continue
                info.mapping[setting.key.text] = setting.value.value
            try:
                read_rows(resolved, SAMPLE_ROWS)
            except DatasetError as exc:
                ctx.error("E500", msg.dataset_unreadable(str(exc)), path, decl.path.span)
            ctx.model.datasets.setdefault(decl.name.text, info)
