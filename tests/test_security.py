"""Security checks: no remote code, no unpickling of untrusted files, constrained wildcards, and
config strings that never reach a shell unquoted."""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from workflow_utils import REPO, default_config, studies_config, write_config

SOURCES = sorted([*(REPO / "src").rglob("*.py"), *(REPO / "workflow").rglob("*.smk"),
                  REPO / "Snakefile"])
PY_SOURCES = [p for p in SOURCES if p.suffix == ".py"]
EVIL = "/data/x y; touch PWNED $(touch PWNED2) `touch PWNED3` 'q\" \\ & | > < *"
EVIL_LANG = "x'; touch PWNED4; '"  # language codes are validated: rejected before any job


def _grep(pattern: str) -> list[str]:
    regex = re.compile(pattern)
    return [f"{p.relative_to(REPO)}:{i}: {line.strip()}"
            for p in SOURCES for i, line in enumerate(p.read_text("utf-8").splitlines(), 1)
            if regex.search(line) and not line.lstrip().startswith("#")]


# ------------------------------------------------------------------ static checks
def test_no_remote_code():
    assert not _grep(r"trust_remote_code\s*=\s*True")
    assert not _grep(r"\*\*.*trust_remote_code|auto_map")


def test_yaml_is_always_loaded_safely():
    assert not _grep(r"yaml\.(load|load_all|unsafe_load|full_load)\s*\(")
    assert not _grep(r"Loader\s*=\s*yaml\.(Loader|FullLoader|UnsafeLoader)")
    assert _grep(r"yaml\.safe_load\(")  # the check above looks at the right files


def test_no_pickle_or_code_from_files():
    assert not _grep(r"\bimport (pickle|dill|cloudpickle|joblib|shelve|marshal)\b|"
                     r"\bfrom (pickle|dill|cloudpickle|joblib|shelve|marshal) import")
    assert not _grep(r"torch\.load\(|allow_pickle\s*=\s*True|pd\.read_pickle")
    assert not _grep(r"(?<![\w.])(eval|exec)\(|os\.system\(|shell\s*=\s*True")


def _from_pretrained_calls() -> list[tuple[str, str, set[str]]]:
    """(where, callee, keyword names) of every `*.from_pretrained(...)` call in src/."""
    calls = []
    for path in PY_SOURCES:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "from_pretrained":
                kwargs = {k.arg for k in node.keywords if k.arg}
                for k in node.keywords:
                    assert k.arg is not None, f"{path}:{node.lineno}: **kwargs to from_pretrained"
                    if k.arg == "trust_remote_code":
                        assert isinstance(k.value, ast.Constant) and k.value.value is False
                    if k.arg == "use_safetensors":
                        assert isinstance(k.value, ast.Constant) and k.value.value is True
                callee = ast.unparse(node.func.value)
                calls.append((f"{path.relative_to(REPO)}:{node.lineno}", callee, kwargs))
    return calls


def test_from_pretrained_calls_are_found():
    calls = _from_pretrained_calls()
    assert len(calls) >= 5
    assert any("Tokenizer" in callee for _, callee, _ in calls)
    assert any("Model" in callee for _, callee, _ in calls)


def test_model_loads_are_safetensors_only():
    # tokenizers and configs read JSON (no pickle); remote code stays off (test below)
    models = [(where, callee) for where, callee, kwargs in _from_pretrained_calls()
              if "Tokenizer" not in callee and "Config" not in callee
              and "use_safetensors" not in kwargs]
    assert models == []


# ------------------------------------------------------------------ behaviour of the loaders
class _Payload:
    """Unpickling this touches a marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture(scope="module")
def hostile_models(tmp_path_factory) -> dict[str, Path]:
    """Model folders an attacker could hand over: pickled weights with a code payload, and
    custom code (`auto_map`) that runs on import."""
    import torch
    from test_engine_common import tiny_encoder

    root = tmp_path_factory.mktemp("hostile")
    marker = root / "PWNED"
    pickled = root / "pickled"
    shutil.copytree(tiny_encoder(), pickled)
    (pickled / "model.safetensors").unlink()
    torch.save({"weights": _Payload(marker)}, pickled / "pytorch_model.bin")
    custom = root / "custom"
    shutil.copytree(tiny_encoder(), custom)
    config = json.loads((custom / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel"}
    (custom / "config.json").write_text(json.dumps(config))
    (custom / "evil.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).touch()\n"
        "from transformers import XLMRobertaConfig as EvilConfig\n"
        "from transformers import XLMRobertaModel as EvilModel\n")
    return {"marker": marker, "pickled": pickled, "custom": custom}


def test_the_pickle_payload_is_live(hostile_models):
    import torch

    torch.load(hostile_models["pickled"] / "pytorch_model.bin", weights_only=False)
    assert hostile_models["marker"].exists()
    hostile_models["marker"].unlink()


def _loaders():
    from xstilts.engine import modeling, retrieval
    from xstilts.tasks.registry import get_task

    return {
        "modeling.load_encoder": modeling.load_encoder,
        "modeling.load_for_inference": lambda d: modeling.load_for_inference(get_task("xnli"), d),
        "retrieval.load_retrieval_encoder": retrieval.load_retrieval_encoder,
    }


@pytest.mark.parametrize("loader", list(_loaders()))
def test_pickled_weights_never_run_code(hostile_models, loader):
    with pytest.raises(Exception, match=r"(?i)weights only load failed|model\.safetensors"):
        _loaders()[loader](hostile_models["pickled"])
    assert not hostile_models["marker"].exists()


@pytest.mark.parametrize("loader", ["modeling.load_encoder", "retrieval.load_retrieval_encoder"])
def test_custom_model_code_is_never_imported(hostile_models, loader):
    loaded = _loaders()[loader](hostile_models["custom"])
    model = getattr(loaded, "model", loaded)
    assert type(model).__module__.startswith("transformers.")
    assert not hostile_models["marker"].exists()


# ------------------------------------------------------------------ the workflow
def test_every_wildcard_is_constrained(tmp_path):
    """Load the workflow with Snakemake's API: each rule's wildcards have a constraint (global
    or per rule) that rejects path separators, traversal and shell metacharacters."""
    write_config(tmp_path, studies_config())  # every rule, the studies' included
    script = f"""
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings
with SnakemakeApi(OutputSettings()) as api:
    wf = api.workflow(resource_settings=ResourceSettings(cores=1),
                      config_settings=ConfigSettings(configfiles=[Path({str(tmp_path)!r}) /
                                                                  "config.yaml"]),
                      snakefile=Path({str(REPO / "Snakefile")!r}), workdir=Path({str(tmp_path)!r}))
    w = wf._workflow
    rules = {{r.name: {{"wildcards": sorted(r.wildcard_names),
                       "constraints": dict(r.wildcard_constraints)}} for r in w.rules}}
    print("RULES=" + json.dumps({{"global": dict(w.wildcard_constraints), "rules": rules}}))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RULES=")), None)
    assert line, proc.stdout + proc.stderr
    found = json.loads(line[len("RULES="):])
    assert {"finetune", "evaluate", "intermediate", "pretrain", "retrieve"} <= set(found["rules"])
    hostile = ["", "..", "a/b", "../x", "x;rm", "$(id)", "a b", "`id`", "*", "tiny/../none"]
    for name, rule in found["rules"].items():
        for wildcard in rule["wildcards"]:
            regex = rule["constraints"].get(wildcard) or found["global"].get(wildcard)
            assert regex, f"rule {name}: wildcard {{{wildcard}}} has no constraint"
            bad = [v for v in hostile if re.fullmatch(regex, v)]
            assert not bad, f"rule {name}: {{{wildcard}}} accepts {bad}"


def test_shell_commands_quote_every_config_value():
    """In the rules' shell strings, config slices only arrive as `{params.spec:q}`; everything
    else unquoted is a constant or a wildcard-constrained path."""
    safe = {"log", "input", "threads"}
    shells = []
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        shells += re.findall(r"shell:\s*\n\s*(\"[^\n]*\")", path.read_text("utf-8"))
    assert len(shells) >= 9
    for shell in shells:
        for field in re.findall(r"(?<!\{)\{([^{}]+)\}(?!\})", shell):
            quoted = re.fullmatch(r"(params|resources|input|output)\.\w+:q", field)
            assert field in safe or quoted, (field, shell)


def _hostile_config() -> dict:
    config = studies_config()  # the studies' rules too
    config["benchmark"] = {"source": "xtreme_dir", "path": EVIL, "ccg_path": EVIL}
    config["models"] = {"m": {"init": "path", "path": EVIL, "recipes": ["none"]}}
    config["recipes"] = {}
    config["hparams"].pop("recipes", None)  # per-recipe hparams name recipes of the grid
    config["targets"] = ["xnli", "xquad", "mlqa", "tatoeba"]
    config["robustness"]["targets"] = ["xnli"]
    return config


def test_hostile_language_code_is_rejected_before_planning(tmp_path):
    config = default_config()
    config["tasks"] = {"xnli": {"languages": ["en", EVIL_LANG]}}
    write_config(tmp_path, config)
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
         str(tmp_path), "--configfile", str(tmp_path / "config.yaml"), "--cores", "1", "-n"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "tasks.xnli.languages: invalid code(s)" in proc.stdout + proc.stderr
    assert not list(tmp_path.rglob("PWNED*"))


def _dry_run_commands(workdir: Path, snakefile: Path) -> list[str]:
    write_config(workdir, _hostile_config())
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--directory",
         str(workdir), "--configfile", str(workdir / "config.yaml"), "--cores", "1", "-n", "-p"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "XSTILTS_DATA_CHECK": "0"})  # the hostile path holds no data
    assert proc.returncode == 0, proc.stdout + proc.stderr
    commands = [x.split("Shell command: ", 1)[1] for x in (proc.stdout + proc.stderr).splitlines()
                if x.startswith("Shell command: ") and x != "Shell command: None"]
    # finetune (xnli, xquad; each evaluates its checkpoint), evaluate (mlqa), retrieve,
    # aggregate, figures, training_curves, and the studies: perturb, robustness, alignment,
    # and the three study reports
    assert len(commands) == 13, proc.stdout
    return commands


@pytest.fixture(scope="module")
def hostile_commands(tmp_path_factory) -> tuple[Path, list[str]]:
    workdir = tmp_path_factory.mktemp("hostile-dry-run")
    return workdir, _dry_run_commands(workdir, REPO / "Snakefile")


def test_config_strings_reach_the_spec_verbatim(hostile_commands):
    _, commands = hostile_commands
    specs = []
    for command in commands:
        tokens = shlex.split(command)
        if "--spec" in tokens:
            at = tokens.index("--spec")
            specs.append((tokens[at - 1], json.loads(tokens[at + 1])))
    assert len(specs) == 10
    with_data = [spec for _, spec in specs if "benchmark" in spec]  # study reports: results only
    assert len(with_data) == 7
    with_data += [sub for _, spec in specs for sub in spec.get("evaluate", [])]  # fused jobs'
    assert len(with_data) == 9
    for spec in with_data:
        assert spec["benchmark"]["path"] == EVIL and spec["benchmark"]["ccg_path"] == EVIL
    # the base model `m` is loaded from its (hostile) path; evaluate and robustness load the
    # fine-tuned model
    loads_base = [spec for stage, spec in specs if stage in ("finetune", "retrieve", "alignment")]
    assert len(loads_base) == 4  # finetune xnli and xquad, retrieve, alignment
    for spec in loads_base:
        assert spec["model_path"] == EVIL, spec


def test_printed_commands_run_without_shell_injection(hostile_commands, tmp_path):
    """Run each job command in a real shell with `python` replaced by a stub that records its
    argv: no injected command runs, and the spec arrives as one argument."""
    workdir, commands = hostile_commands
    stub = tmp_path / "bin" / "python"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\nprintf "%s\\0" "$@" > "$ARGV_OUT"\n')
    stub.chmod(0o755)
    for i, command in enumerate(c for c in commands if "--spec" in c):
        log = re.search(r"> (results/logs/\S+) 2>&1$", command).group(1)
        (workdir / log).parent.mkdir(parents=True, exist_ok=True)
        argv_out = tmp_path / f"argv{i}"
        env = {"PATH": f"{stub.parent}{os.pathsep}/usr/bin:/bin", "ARGV_OUT": str(argv_out)}
        proc = subprocess.run(["/bin/sh", "-c", command], cwd=workdir, env=env,
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
        argv = argv_out.read_bytes().split(b"\0")[:-1]
        assert argv[:2] == [b"-m", b"xstilts"] and argv[3] == b"--spec"
        assert argv[5] == b"--threads" and int(argv[6]) >= 1, argv
        # training stages also get the job's runtime (a number from resources, not config text)
        assert len(argv) == 7 or (len(argv) == 9 and argv[7] == b"--runtime-min"
                                  and float(argv[8]) > 0), argv
        assert json.loads(argv[4]).get("benchmark", {"path": EVIL})["path"] == EVIL
    assert not [p.name for p in workdir.rglob("PWNED*")]


def test_checkout_path_with_a_space_is_quoted(tmp_path):
    repo = tmp_path / "my projects" / "xstilts"
    repo.parent.mkdir()
    repo.symlink_to(REPO)
    workdir = tmp_path / "run"
    workdir.mkdir()
    for command in _dry_run_commands(workdir, repo / "Snakefile"):
        # the checkout's src/ reaches the jobs in their environment (PYTHONPATH), not in the
        # command line: nothing to quote; stages `exec` (see common.smk)
        assert "my projects" not in command, command
        tokens = shlex.split(command)
        assert tokens[:3] == ["exec", "python", "-m"] or tokens[:2] == ["python", "-m"], command


@pytest.mark.parametrize("name", ["mnlix\n", "tiny\n", "de\n", "mnli\r", "\nmnli"])
def test_names_ending_in_a_newline_are_rejected(name):
    """Python's `$` matches before a final newline: a recipe "mnlix\\n" would split a job's
    shell command in two. Every name check matches the whole string."""
    import yaml
    from jsonschema import Draft202012Validator

    from xstilts.grid import config as cfg
    from xstilts.tasks import registry

    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    name_schema = schema["definitions"]["name"]
    assert not Draft202012Validator(name_schema).is_valid(name)
    assert not cfg.SAFE_NAME.fullmatch(name)
    with pytest.raises(cfg.ConfigError):
        cfg._check_name(name, "recipes")
    with pytest.raises(registry.RegistryError):
        registry.registry({name: {"format": "classification", "role": "target",
                                  "metric": "accuracy", "labels": ["a"]}})
    with pytest.raises(registry.RegistryError, match="invalid code"):
        registry.registry({"xnli": {"languages": ["en", name.strip() + "\n"]}})
    config = default_config()
    config["recipes"] = {name: {"tasks": ["mnli"]}}
    with pytest.raises(Exception, match="recipes|does not match"):
        from snakemake.utils import validate

        validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
        cfg.check(config)
