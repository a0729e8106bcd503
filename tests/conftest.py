"""Shared pytest configuration for the whole suite.

`fixtures.lm_plugin` provides the fixture LM server and clients (`lm_server`, `lm_model`,
`lm_client`, `lm_cache_dir`); see its docstring.
"""

pytest_plugins = ["fixtures.lm_plugin"]

# Hypothesis budgets: "ci" (default) keeps the suite fast; HYPOTHESIS_PROFILE=deep
# runs many more examples for a local soak.
import os  # noqa: E402

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", max_examples=100, deadline=None)
settings.register_profile("deep", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
