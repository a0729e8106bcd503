"""The semantic checks, in the order they run.

Each check is `check_<topic>(ctx)`: it reads what earlier checks resolved,
records resolved *Info objects and references in the model, and reports
through the context's sink. Order matters: declarations bind names, types
resolve fields, programs need signatures and models, and constraints,
objectives, optimize and tests need programs.
"""

from __future__ import annotations

from collections.abc import Callable

from dspx_lang.semantics.checks.constraints import check_constraints
from dspx_lang.semantics.checks.datasets import check_datasets
from dspx_lang.semantics.checks.declarations import check_declarations
from dspx_lang.semantics.checks.models import check_models
from dspx_lang.semantics.checks.objectives import check_objectives
from dspx_lang.semantics.checks.optimize import check_optimize
from dspx_lang.semantics.checks.programs import check_programs
from dspx_lang.semantics.checks.tests import check_tests
from dspx_lang.semantics.checks.typing import check_types
from dspx_lang.semantics.context import Context

CHECKS: tuple[Callable[[Context], None], ...] = (
    check_declarations,
    check_types,
    check_models,
    check_datasets,
    check_programs,
    check_constraints,
    check_objectives,
    check_optimize,
    check_tests,
)
