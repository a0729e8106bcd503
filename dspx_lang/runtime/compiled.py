"""What generated modules are built from: model and enum bases, the typed program wrapper.

Contract:
- Importing this module imports pydantic and nothing heavy of dspx: the IR embedded in a
  generated module is parsed, and the runtime `Program` built, on first use
  (`EmbeddedPackage`), so importing a compiled module stays cheap and never imports litellm.
- `DspxModel`s are frozen, reject unknown fields, and build their validators on first use.
- `CompiledProgram` is immutable like `Program`: every `configure`/`with_*` returns a new
  object of the same generated class. Its outputs are the generated outputs model,
  validated; the runtime `Program` underneath is `.runtime` (traces, rendering, ...).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from dspx_lang.ir.schema import Package, ProgramEstimate
    from dspx_lang.prompts import Demo
    from dspx_lang.runtime.lm import LMClient
    from dspx_lang.runtime.program import Program
    from dspx_lang.runtime.results import CallRecord, Prediction

__all__ = ["CompiledProgram", "DspxEnum", "DspxModel", "EmbeddedPackage", "Field"]


class DspxModel(BaseModel):
    """Base of generated classes, inputs, outputs and configurations."""

    # A field whose dspx name is a Python keyword has an alias: accept both spellings.
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        defer_build=True,
        populate_by_name=True,
        protected_namespaces=(),
    )


class DspxEnum(StrEnum):
    """Base of generated enums: members are their names (`Intent.get_weather == "get_weather"`)."""


class EmbeddedPackage:
    """The IR JSON a generated module carries, parsed once on first use (thread-safe)."""

    def __init__(self, ir_json: str) -> None:
        self._json = ir_json
        self._package: Package | None = None
        self._lock = threading.Lock()

    @property
    def package(self) -> Package:
        with self._lock:
            if self._package is None:
                from dspx_lang.ir import package_from_json

                self._package = package_from_json(self._json, origin="compiled module")
            return self._package


InputsT = TypeVar("InputsT", bound=DspxModel)
OutputsT = TypeVar("OutputsT", bound=DspxModel)
ConfigT = TypeVar("ConfigT", bound=DspxModel)


class CompiledProgram(Generic[InputsT, OutputsT, ConfigT]):
    """A typed program of a generated module; generated subclasses add typed `__call__`,
    `acall` and `configure`."""

    def __init__(
        self,
        package: EmbeddedPackage,
        name: str,
        inputs: type[InputsT],
        outputs: type[OutputsT],
        config: type[ConfigT],
    ) -> None:
        self._embedded = package
        self._name = name
        self.inputs_model = inputs
        self.outputs_model = outputs
        self.config_model = config
        self._runtime: Program | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def runtime(self) -> Program:
        """The runtime `Program` (built on first use)."""
        with self._lock:
            if self._runtime is None:
                from dspx_lang.runtime.program import Program

                self._runtime = Program(self._embedded.package, self._name)
            return self._runtime

    @property
    def config(self) -> ConfigT:
        return self.config_model.model_validate(self.runtime.config)

    @property
    def history(self) -> list[CallRecord]:
        return self.runtime.history

    def estimate(self) -> ProgramEstimate | None:
        return self.runtime.estimate()

    def run(self, inputs: InputsT | Mapping[str, Any]) -> Prediction:
        """One run with its trace and usage (`Prediction`); `__call__` returns only outputs."""
        return self.runtime.run(_as_dict(inputs))

    async def arun(self, inputs: InputsT | Mapping[str, Any]) -> Prediction:
        return await self.runtime.arun(_as_dict(inputs))

    def _call(self, inputs: dict[str, Any]) -> OutputsT:
        return self.outputs_model.model_validate(self.runtime.run(inputs).outputs)

    async def _acall(self, inputs: dict[str, Any]) -> OutputsT:
        prediction = await self.runtime.arun(inputs)
        return self.outputs_model.model_validate(prediction.outputs)

    def _configure(self, changes: dict[str, Any]) -> Self:
        """Generated `configure` passes every variable; None means unchanged."""
        given = {name: value for name, value in changes.items() if value is not None}
        return self._derive(self.runtime.configure(**given))

    def with_config(self, config: ConfigT | Mapping[str, Any]) -> Self:
        return self._derive(self.runtime.with_config(_as_dict(config)))

    def with_demos(self, demos: Mapping[str, Sequence[Demo]]) -> Self:
        return self._derive(self.runtime.with_demos(demos))

    def with_instructions(self, instructions: Mapping[str, str]) -> Self:
        return self._derive(self.runtime.with_instructions(instructions))

    def with_model(self, name: str, **overrides: Any) -> Self:
        return self._derive(self.runtime.with_model(name, **overrides))

    def with_client(self, client: LMClient) -> Self:
        return self._derive(self.runtime.with_client(client))

    def evaluate(self, *args: Any, **kwargs: Any) -> Any:
        return self.runtime.evaluate(*args, **kwargs)

    def load_optimized(self, path: str) -> Self:
        return self._derive(self.runtime.load_optimized(path))

    def _derive(self, runtime: Program) -> Self:
        other = copy.copy(self)
        other._runtime = runtime
        other._lock = threading.Lock()
        return other

    def __repr__(self) -> str:
        return f"<dspx program {self._name}>"


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return dict(value)
