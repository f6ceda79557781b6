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


@dataclass(frozen=True)
class DataSpec(StageSpec):
    """Generate mini-XTREME into `out` from `benchmark.synthetic` settings."""

    stage: ClassVar[str] = "data"
    out: str
    synthetic: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LabelsSpec(StageSpec):
    """Gold test labels of one target in the XTREME submission layout (`out` = its folder)."""

    stage: ClassVar[str] = "labels"
    target: str
    benchmark: dict
    out: str
    tasks: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PretrainSpec(StageSpec):
    """A base model: `init: pretrain` (needs `hparams`) or `init: random` (needs `tokenizer`)."""

    stage: ClassVar[str] = "pretrain"
    model: dict
    benchmark: dict
    out: str
    scratch: str
    seed: int = 0
    hparams: dict | None = None
    tokenizer: str | None = None
    tasks: dict = field(default_factory=dict)

    def check(self) -> None:
        super().check()
        init = self.model.get("init")
        if init == "random" and not self.tokenizer:
            raise ConfigError("pretrain spec: key 'tokenizer' is needed for init: random")
        if init != "random" and self.hparams is None:
            raise ConfigError("pretrain spec: key 'hparams' is needed for init: pretrain")


@dataclass(frozen=True)
class IntermediateSpec(StageSpec):
    """Intermediate training of `model_path` on a recipe's tasks."""

    stage: ClassVar[str] = "intermediate"
    recipe: dict
    benchmark: dict
    model_path: str
    hparams: dict
    seed: int
    out: str
    scratch: str
    dev_out: str = ""
    model_name: str = ""
    recipe_name: str = ""
    targets: list[str] = field(default_factory=list)
    model: dict = field(default_factory=dict)
    tasks: dict = field(default_factory=dict)

    def check(self) -> None:
        super().check()
        if not self.recipe.get("tasks"):
            raise ConfigError("intermediate spec: key 'recipe' has no 'tasks'")


@dataclass(frozen=True)
class FinetuneSpec(StageSpec):
    """Fine-tuning of `model_path` on one target's English training data."""

    stage: ClassVar[str] = "finetune"
    target: str
    benchmark: dict
    model_path: str
    hparams: dict
    seed: int
    out: str
    scratch: str
    evaluate: list[dict] = field(default_factory=list)
    upstream: dict = field(default_factory=dict)
    tasks: dict = field(default_factory=dict)

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
class EvaluateSpec(StageSpec):
    """Zero-shot evaluation of the fine-tuned `model_path` on every language of `target`."""

    stage: ClassVar[str] = "evaluate"
    target: str
    benchmark: dict
    model_path: str
    ids: dict
    out: str
    predictions: str
    labels: str | None = None
    upstream: dict = field(default_factory=dict)
    tasks: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RetrieveSpec(StageSpec):
    """BUCC and Tatoeba straight from the encoder `model_path` (see `stages.retrieve`);
    `targets`: [{target, out, predictions}]."""

    stage: ClassVar[str] = "retrieve"
    benchmark: dict
    model_path: str
    retrieval: dict
    ids: dict
    targets: list[dict]
    model: dict = field(default_factory=dict)
    device: str | None = None
    precision: str | None = None
    upstream: dict = field(default_factory=dict)
    tasks: dict = field(default_factory=dict)

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
class RobustnessSpec(StageSpec):
    """The fine-tuned `model_path` on every perturbed set of its target (`perturbed`: the
    perturb stage's manifest.json; `clean_scores`: the evaluate stage's scores)."""

    stage: ClassVar[str] = "robustness"
    target: str
    benchmark: dict
    model_path: str
    perturbed: str
    clean_scores: str
    ids: dict
    out: str
    suite: dict = field(default_factory=dict)
    upstream: dict = field(default_factory=dict)
    tasks: dict = field(default_factory=dict)


@dataclass(frozen=True)
class AlignmentSpec(StageSpec):
    """Per-layer alignment of the encoder `model_path` (see `stages.alignment`)."""

    stage: ClassVar[str] = "alignment"
    model_path: str
    benchmark: dict
    out: str
    ids: dict = field(default_factory=dict)
    seed: int = 0
    limit: int = 200
    pairs: str = "tatoeba"
    languages: list[str] | None = None
    max_length: int = 128
    perturbations: list[dict] = field(default_factory=list)
    tokenizer: str | None = None
    device: str | None = None
    precision: str | None = None
    upstream: dict = field(default_factory=dict)
    tasks: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RobustnessReportSpec(StageSpec):
    """Robustness tables (`tables`) and figures (`figures`) from the robustness stage's JSON
    `files`; `recipes` (as `grid.config.recipes` returns them) give the adversarial/clean pairs
    (see `stages.robustness_report`)."""

    stage: ClassVar[str] = "robustness-report"
    files: list[str]
    tables: str
    figures: str | None = None
    recipes: dict = field(default_factory=dict)
    baseline: str = "none"


@dataclass(frozen=True)
class AlignmentReportSpec(StageSpec):
    """Alignment tables and figures from the alignment stage's JSON `files`, with the alignment
    change against the transfer gain when `scores` (the tidy scores) is given (see
    `stages.alignment_report`)."""

    stage: ClassVar[str] = "alignment-report"
    files: list[str]
    tables: str
    figures: str
    scores: str | None = None
    baseline: str = "none"
    metric: str = "acc_centered"
    layer: str | int = "retrieval"

    def check(self) -> None:
        if isinstance(self.layer, str) and self.layer not in ("retrieval", "mean"):
            raise ConfigError(f"{self.stage} spec: key 'layer' must be 'retrieval', 'mean' or "
                              f"a hidden_states index, got {self.layer!r}")


@dataclass(frozen=True)
class FairnessReportSpec(StageSpec):
    """Fairness tables and figures from the tidy scores (see `stages.fairness_report`)."""

    stage: ClassVar[str] = "fairness-report"
    scores: str
    out: str
    languages: str | None = None
    predictions_root: str | None = None
    labels_root: str | None = None
    bootstrap: int = 200
    seed: int = 0
    level: float = 0.95
    baseline: str = "none"
    include_english: bool = False
    figure_target: str | None = None
    figure_recipes: list[str] | None = None
    tasks: dict = field(default_factory=dict)

    def check(self) -> None:
        for key in ("scores", "out"):
            if not getattr(self, key):
                raise ConfigError(f"{self.stage} spec: key '{key}' is empty")


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
                RetrieveSpec, PerturbSpec, RobustnessSpec, AlignmentSpec, ExportSpec,
                RobustnessReportSpec, AlignmentReportSpec, FairnessReportSpec)
}
