# xstilts: X-STILTs (Phang et al., AACL 2020) as a Snakemake grid.
#   snakemake --cores all                   the embedded default (mini-XTREME, tiny model, CPU)
#   snakemake --cores all --profile slurm   on a SLURM cluster
#   snakemake --configfile config/paper.yaml --profile slurm   the paper's setup
# Stages, one per rule file: data -> pretrain -> intermediate -> finetune -> evaluate / retrieve
# -> aggregate -> figures (-> `snakemake --report report.html`); research studies, a rule file
# each in workflow/rules/studies/ (robustness, alignment, fairness), all included below.

from snakemake.utils import min_version

min_version("9.0")


# config.yaml is the default: `--config key=value` overrides merge onto it; `--configfile
# other.yaml` replaces it instead of merging into it.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/intermediate.smk"
include: "workflow/rules/finetune.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/retrieve.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/training_curves.smk"


for _study_rules in STUDY_RULES:  # found in common.smk; a new study's rule file is included too

    include: _study_rules


rule all:
    default_target: True
    input:
        rules.aggregate.output,
        rules.figures.output,
        rules.training_curves.output if TRAINING_CURVES else [],
        [xgrid.labels_dir(t) for t in config["targets"]] if SYNTHETIC else [],
        STUDY_OUTPUTS,
