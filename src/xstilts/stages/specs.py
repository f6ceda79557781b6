"""Typed stage specs: what one job of a stage reads, writes and was configured with.

A spec holds a job's inputs, outputs and the provenance that should rerun it when it changes
(the rules pass it as canonical JSON `params`, Snakemake's rerun trigger). Compute settings
(threads, the time budget) are not in it: they come as a `Job` from the command line, so
changing them reruns nothing.

One name per concept in every spec:

- `model_path`: the model folder (or hub name) the job loads: a base model, an intermediate
  checkpoint or a fine-tuned model;
- `tokenizer`: a tokenizer folder;
- `model`: the `models.<name>` config entry of the job's model (without the grid's `recipes`);
- `upstream`: the config slices that produced `model_path` (provenance only);
- `out`: the job's output path (a file or a folder); `scratch`: resumable training state;
  `predictions`: the predictions folder of one target;
- `ids`: the job's grid coordinates written into its results (model, recipe, seed).

Fields that several specs share are declared once, in base classes: `BenchmarkSpec`
(`benchmark`, `tasks`), `CheckpointSpec` (+ `model_path`, `upstream`) and `TrainingSpec`
(+ `model_path`, `hparams`, `seed`, `out`, `scratch`).

`from_json` is the one place a spec is checked: a missing, unknown or mistyped key raises
`ConfigError` naming the stage and the key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from xstilts.grid.config import ConfigError

if typing.TYPE_CHECKING:
    from xstilts.engine.stops import TimeBudget

S = TypeVar("S", bound="StageSpec")


@dataclass(frozen=True)
class Job:
    """Compute settings of one job (not part of its spec, so not a rerun trigger)."""

    threads: int = 1
    time_budget: TimeBudget | None = None


DEFAULT_JOB = Job()


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _matches(value: Any, hint: Any) -> bool:
    """Whether a JSON value has the annotated type (int is no bool; a float may be an int)."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arm) for arm in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


@dataclass(frozen=True)
class StageSpec:
    """Base of the stage specs: parsing and checking from the JSON the rules write."""

    stage: ClassVar[str] = ""

    @classmethod
    def from_json(cls: type[S], data: Any) -> S:
        """The spec of a JSON object; ConfigError naming the key for anything wrong."""
        where = f"{cls.stage} spec"
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: expected a JSON object, got {type(data).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {sorted(fields)}")
        hints = typing.get_type_hints(cls)
        for name, spec_field in fields.items():
            if name not in data:
                no_default = (spec_field.default is dataclasses.MISSING
                              and spec_field.default_factory is dataclasses.MISSING)
                if no_default:
                    raise ConfigError(f"{where}: missing key '{name}'")
                continue
            if not _matches(data[name], hints[name]):
                raise ConfigError(f"{where}: key '{name}' must be {_type_name(hints[name])}, "
                                  f"got {data[name]!r}")
        spec = cls(**data)
        spec.check()
        return spec

    @classmethod
    def parse(cls: type[S], spec: S | Mapping[str, Any]) -> S:
        """`spec` itself, or the spec of a JSON object (library callers and tests)."""
        return spec if isinstance(spec, cls) else cls.from_json(spec)

    def check(self) -> None:
        """Checks across keys (the types are checked by `from_json`)."""
        benchmark = getattr(self, "benchmark", None)
        if benchmark is not None and "source" not in benchmark:
            raise ConfigError(f"{self.stage} spec: key 'benchmark' has no 'source'")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, kw_only=True)
class BenchmarkSpec(StageSpec):
    """Base of the specs of stages that read benchmark data: `benchmark` (the config's, with
    its data path) and the task registry overrides `tasks`."""

    benchmark: dict
    tasks: dict = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CheckpointSpec(BenchmarkSpec):
    """Base of the specs of stages that read a checkpoint: `model_path` and the config slices
    that produced it (`upstream`, provenance only)."""

    model_path: str
    upstream: dict = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TrainingSpec(BenchmarkSpec):
    """Base of the training stages' specs: `model_path` trained with `hparams` and `seed` into
    `out`, resumable state in `scratch` (see `stages.common.train_stage`)."""

    model_path: str
    hparams: dict
    seed: int
    out: str
    scratch: str


@dataclass(frozen=True)
class DataSpec(StageSpec):
    """Generate mini-XTREME into `out` from `benchmark.synthetic` settings."""

    stage: ClassVar[str] = "data"
    out: str
    synthetic: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LabelsSpec(BenchmarkSpec):
    """Gold test labels of one target in the XTREME submission layout (`out` = its folder)."""

    stage: ClassVar[str] = "labels"
    target: str
    out: str


@dataclass(frozen=True)
class PretrainSpec(BenchmarkSpec):
    """A base model: `init: pretrain` (needs `hparams`) or `init: random` (needs `tokenizer`)."""

    stage: ClassVar[str] = "pretrain"
    model: dict
    out: str
    scratch: str
    seed: int = 0
    hparams: dict | None = None
    tokenizer: str | None = None

    def check(self) -> None:
        super().check()
        init = self.model.get("init")
        if init == "random" and not self.tokenizer:
            raise ConfigError("pretrain spec: key 'tokenizer' is needed for init: random")
        if init != "random" and self.hparams is None:
            raise ConfigError("pretrain spec: key 'hparams' is needed for init: pretrain")


@dataclass(frozen=True)
class IntermediateSpec(TrainingSpec):
    """Intermediate training of `model_path` on a recipe's tasks."""

    stage: ClassVar[str] = "intermediate"
    recipe: dict
    dev_out: str = ""
    model_name: str = ""
    recipe_name: str = ""
    targets: list[str] = field(default_factory=list)
    model: dict = field(default_factory=dict)

    def check(self) -> None:
        super().check()
        if not self.recipe.get("tasks"):
            raise ConfigError("intermediate spec: key 'recipe' has no 'tasks'")


@dataclass(frozen=True)
class FinetuneSpec(TrainingSpec):
    """Fine-tuning of `model_path` on one target's English training data."""

    stage: ClassVar[str] = "finetune"
    target: str
    evaluate: list[dict] = field(default_factory=list)
    upstream: dict = field(default_factory=dict)

    def check(self) -> None:
        super().check()
        self.evaluations()

    def evaluations(self) -> list[EvaluateSpec]:
        """The fused evaluations of the new checkpoint (`evaluate`: evaluate specs)."""
        out = []
        for i, item in enumerate(self.evaluate):
            try:
                out.append(EvaluateSpec.from_json(item))
            except ConfigError as err:
                raise ConfigError(f"finetune spec: key 'evaluate[{i}]': {err}") from err
        return out


@dataclass(frozen=True)
class EvaluateSpec(CheckpointSpec):
    """Zero-shot evaluation of the fine-tuned `model_path` on every language of `target`."""

    stage: ClassVar[str] = "evaluate"
    target: str
    ids: dict
    out: str
    predictions: str
    labels: str | None = None


@dataclass(frozen=True)
class RetrieveSpec(CheckpointSpec):
    """BUCC and Tatoeba straight from the encoder `model_path` (see `stages.retrieve`);
    `targets`: [{target, out, predictions}]."""

    stage: ClassVar[str] = "retrieve"
    retrieval: dict
    ids: dict
    targets: list[dict]
    model: dict = field(default_factory=dict)
    device: str | None = None
    precision: str | None = None

    def check(self) -> None:
        super().check()
        missing = [k for k in ("pooling", "max_length", "sweep_layers") if k not in self.retrieval]
        if missing:
            raise ConfigError(f"retrieve spec: key 'retrieval' has no {missing}")
        if not self.targets:
            raise ConfigError("retrieve spec: key 'targets' lists no targets")
        for i, entry in enumerate(self.targets):
            wrong = [k for k in ("target", "out", "predictions")
                     if not isinstance(entry.get(k), str) or not entry[k]]
            unknown = sorted(set(entry) - {"target", "out", "predictions"})
            if wrong or unknown:
                raise ConfigError(f"retrieve spec: key 'targets[{i}]' needs strings target, "
                                  f"out, predictions (missing/wrong {wrong}, unknown {unknown})")


@dataclass(frozen=True)
class PerturbSpec(StageSpec):
    """Perturbed copies of one target's test sets (see `stages.perturb`)."""

    stage: ClassVar[str] = "perturb"
    target: str
    benchmark: dict
    operations: list[str]
    severities: list[float]
    seed: int
    out: str
    max_examples: int | None = None
    tokenizer: str | None = None
    dictionaries: dict | str | None = None
    languages: list[str] | None = None
    upstream: dict = field(default_factory=dict)
    tasks: dict = field(default_factory=dict)

    def check(self) -> None:
        super().check()
        if not self.operations:
            raise ConfigError("perturb spec: key 'operations' lists no operation")
        if not self.severities or any(not 0.0 <= s <= 1.0 for s in self.severities):
            raise ConfigError(f"perturb spec: key 'severities' must be numbers in [0, 1], got "
                              f"{self.severities}")
        if self.max_examples is not None and self.max_examples < 1:
            raise ConfigError(f"perturb spec: key 'max_examples' must be a positive integer or "
                              f"null, got {self.max_examples}")
        if "subword" in self.operations and not self.tokenizer:
            raise ConfigError("perturb spec: operation 'subword' needs key 'tokenizer' (a local "
                              "folder)")


@dataclass(frozen=True)
class ExportSpec(StageSpec):
    """A pretrained base model (`model_path`) copied to `out` with its provenance; `threads`
    and `command` are provenance of how the model was built, recorded in provenance.json."""

    stage: ClassVar[str] = "export"
    name: str
    model: dict
    benchmark: dict
    hparams: dict
    model_path: str
    out: str
    checkout: str
    command: str
    threads: int
    seed: int = 0


SPECS: dict[str, type[StageSpec]] = {
    cls.stage: cls
    for cls in (DataSpec, LabelsSpec, PretrainSpec, IntermediateSpec, FinetuneSpec, EvaluateSpec,
                RetrieveSpec, PerturbSpec, ExportSpec)
}
