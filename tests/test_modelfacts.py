"""Model facts from litellm's bundled price map, checked against the JSON itself."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dspx_lang
from dspx_lang import modelfacts
from dspx_lang.modelfacts import known_model_ids, lookup, price_map_path

ROOT = Path(dspx_lang.__file__).parent.parent


@pytest.fixture(scope="module")
def raw_map() -> dict[str, Any]:
    path = price_map_path()
    assert path is not None, "litellm's price map must be installed"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_provider_prefixed_and_bare_ids(raw_map: dict[str, Any]) -> None:
    entry = raw_map["gpt-4o-mini"]
    for model_id in ("openai/gpt-4o-mini", "gpt-4o-mini"):
        facts = lookup(model_id)
        assert facts is not None
        assert (facts.model_id, facts.key, facts.provider) == (model_id, "gpt-4o-mini", "openai")
        assert facts.input_cost == pytest.approx(entry["input_cost_per_token"] * 1e6)
        assert facts.output_cost == pytest.approx(entry["output_cost_per_token"] * 1e6)
        assert facts.max_input_tokens == entry["max_input_tokens"]
        assert facts.max_output_tokens == entry["max_output_tokens"]
        assert facts.supports_function_calling is True
        assert facts.supports_response_schema is True


def test_other_providers_key_styles() -> None:
    claude = lookup("anthropic/claude-sonnet-4-5")
    assert claude is not None
    assert claude.provider == "anthropic"
    vertex = lookup("vertex_ai/gemini-2.0-flash")
    assert vertex is not None
    assert vertex.provider.startswith("vertex_ai")


@pytest.mark.parametrize(
    "model_id",
    [
        "hosted_vllm/gpt-4o-mini",
        "openai/qwen2.5-0.5b-instruct",
        "no-such-model",
        "anthropic/gpt-4o",
    ],
)
def test_unknown_or_mismatched_provider_is_none(model_id: str) -> None:
    assert lookup(model_id) is None


def test_known_ids_are_sorted_and_include_the_usual_models() -> None:
    ids = known_model_ids()
    assert ids == sorted(ids)
    assert {"openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5"} <= set(ids)
    assert all("/" in i for i in ids)


@settings(max_examples=300)
@given(data=st.data())
def test_every_known_id_looks_up_to_its_price_map_entry(
    data: st.DataObject, raw_map: dict[str, Any]
) -> None:
    model_id = data.draw(st.sampled_from(known_model_ids()))
    facts = lookup(model_id)
    assert facts is not None
    entry = raw_map[facts.key]
    assert facts.provider == entry["litellm_provider"]
    expected = entry.get("input_cost_per_token")
    if expected is None:
        assert facts.input_cost is None
    else:
        assert facts.input_cost == pytest.approx(expected * 1e6)


def _fresh_process(code: str, cache_dir: Path) -> str:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "DSPX_CACHE_DIR": str(cache_dir)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


LOOKUP = (
    "import sys\nfrom dspx_lang.modelfacts import lookup\n"
    "f = lookup('openai/gpt-4o-mini')\n"
    "print(f.input_cost if f else None, 'litellm' in sys.modules)"
)


def test_compact_cache_is_written_read_and_survives_corruption(tmp_path: Path) -> None:
    assert _fresh_process(LOOKUP, tmp_path) == "0.15 False"
    [cache_file] = tmp_path.glob("modelfacts-*.marshal")
    # Prove later processes read the cache: plant a different price in it.
    table = marshal.loads(cache_file.read_bytes())
    table["gpt-4o-mini"] = (*table["gpt-4o-mini"][:2], 99.0, *table["gpt-4o-mini"][3:])
    cache_file.write_bytes(marshal.dumps(table))
    assert _fresh_process(LOOKUP, tmp_path) == "99.0 False"
    cache_file.write_bytes(b"\x00garbage")
    assert _fresh_process(LOOKUP, tmp_path) == "0.15 False"
    assert marshal.loads(cache_file.read_bytes())["gpt-4o-mini"][2] == 0.15


def test_unwritable_cache_dir_only_costs_speed(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    assert _fresh_process(LOOKUP, blocker / "cache") == "0.15 False"


def test_user_cache_dir_honours_dspx_cache_dir(lm_cache_dir: Path) -> None:
    assert modelfacts.user_cache_dir() == lm_cache_dir
