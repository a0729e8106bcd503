"""Shared pytest configuration for the whole suite.

`fixtures.lm_plugin` provides the fixture LM server and clients (`lm_server`, `lm_model`,
`lm_client`, `lm_cache_dir`); see its docstring.
"""

pytest_plugins = ["fixtures.lm_plugin"]
