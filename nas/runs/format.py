"""The run folder's file names and the keys a trial records: one place for the writer
(the search) and the readers (report, export, load) to agree on.

    results/<run>/
      run.json            status (running/finished/interrupted), pid, host, start/end, versions
      config.yaml         the resolved experiment: space, data, train, search
      study.db            the Optuna study (SQLite) unless --storage named another
      trials.csv          one row per trial (rewritten atomically after every trial)
      pareto.csv          the current Pareto front
      trials/<number>/    arch.yaml, metrics.json, weights.safetensors (front members only)
      plots/              pareto.png, hypervolume.png, analysis-<key>-fronts.png/-edf.png
      report.html         the run on one offline page (front, hypervolume, groups, curves)
      tensorboard/        trial_<n>/ event files: per-epoch curves (`tensorboard --logdir`)
      export/<number>/    written by `nas export`: arch.yaml, weights.safetensors,
                          metrics.json, README.md, model.onnx, model.pt2
      report.json         in a `nas report --snapshot` copy: the `--json` document
      verify.csv          written by `nas verify`: one row per retrained member (the front, or
                          with --winners the winner call's candidates) and training seed,
                          with its per-image scores on the test split
      verify.json         its summary: mean, std and 95% interval per member and objective
"""

from __future__ import annotations

RUN_FILE = "run.json"
CONFIG_FILE = "config.yaml"
STUDY_FILE = "study.db"
TRIALS_CSV = "trials.csv"
PARETO_CSV = "pareto.csv"
TRIALS_DIR = "trials"
PLOTS_DIR = "plots"
EXPORT_DIR = "export"
ARCH_FILE = "arch.yaml"
METRICS_FILE = "metrics.json"
WEIGHTS_FILE = "weights.safetensors"
PARETO_PNG, HYPERVOLUME_PNG = "pareto.png", "hypervolume.png"
REPORT_HTML = "report.html"
TENSORBOARD_DIR = "tensorboard"
ONNX_FILE, PT2_FILE, CARD_FILE = "model.onnx", "model.pt2", "README.md"
TORCHSCRIPT_FILE = "model.torchscript.pt"  # written by earlier versions; removed on re-export
REPORT_JSON = "report.json"
VERIFY_CSV, VERIFY_JSON = "verify.csv", "verify.json"
# verify.csv: these columns, then one per measured objective (accuracy, loss, flops, ...),
# then "seconds" (training time of that seed).
VERIFY_COLUMNS = ("trial", "seed", "epochs")

# run.json "status"
RUNNING, FINISHED, INTERRUPTED = "running", "finished", "interrupted"

# run.json keys read by report/export (nas/runs/folder.py). A run is "in progress" when
# its status is RUNNING and its pid is alive on this host. "storage" is the Optuna
# storage URL (absent: sqlite:///RUN/study.db); "study_name" names the study in it
# (absent: the storage's only study).
RUN_STATUS, RUN_PID, RUN_HOST = "status", "pid", "host"
RUN_STORAGE, RUN_STUDY_NAME = "storage", "study_name"

# Optuna trial user attributes (every value JSON-serialisable).
ATTR_STATE = "state"  # one of TRIAL_STATES below
ATTR_METRICS = "metrics"  # {"accuracy": .., "flops": .., "params": .., "latency_ms": .., ...}
# The architecture as a fixed space document (dict): written by runs before it moved to
# trials/<n>/arch.yaml (the study keeps only ATTR_SUMMARY); still read when present.
ATTR_ARCH = "arch"
ATTR_SUMMARY = "summary"  # one line, e.g. "conv24 | mbconv x2 @48 k5 | attention x2 @96 h4"
ATTR_ERROR = "error"  # one-line reason for failed / infeasible trials
ATTR_SECONDS = "seconds"  # {"build": .., "count": .., "train": .., "total": ..}
ATTR_EPOCHS = "epochs"  # epochs actually trained
# Set when a scheduler ran (early_stopping asha/mo_asha): the highest rung the trial
# reached, 0 at asha_grace_period epochs, k at grace * eta**k, the top at train.epochs.
ATTR_RUNG = "rung"
# Per-epoch metrics, compact (nas/runs/curves.py): {"epoch": [1, 2], "accuracy": [..], ...},
# 4 significant digits; older runs: [{"epoch": 1, "accuracy": .., ...}, ...]. The full
# records are in trials/<n>/metrics.json; the curves also in RUN/tensorboard/trial_<n>/.
ATTR_HISTORY = "history"
ATTR_CONSTRAINTS = "constraints"  # Optuna constraint values, <= 0 means satisfied
# Added by the search (issue 4). A trial abandoned by a search that stopped or was killed:
# state "failed", error "interrupted: ...", and this set to true. It does not count towards
# --trials; its parameters are enqueued again as a new trial whose ATTR_RETRY_OF is its number.
ATTR_INTERRUPTED = "interrupted"
ATTR_RETRY_OF = "retry_of"
# Where a trial's worker ran (trials.csv columns of the same names): the host name, Ray's
# node id (two Ray nodes may share a host), and the device, e.g. "cuda:3 (NVIDIA H100
# 80GB HBM3)" or "cpu". The worker sends its weights through Ray; the driver writes them.
ATTR_HOST, ATTR_NODE, ATTR_DEVICE = "host", "node_id", "device"
ATTR_WEIGHTS_SHA256 = "weights_sha256"  # of the tensor bytes the driver received and wrote

# Optuna study user attributes.
STUDY_OBJECTIVES = "objectives"  # [{"name": "accuracy", "direction": "maximize"}, ...]
STUDY_REFERENCE_POINT = "reference_point"  # fixed hypervolume reference, one value per objective
STUDY_CONFIG = "config"  # the resolved experiment config (dict)

COMPLETE, FAILED, INFEASIBLE, STOPPED_EARLY, RUNNING_TRIAL = (
    "complete",
    "failed",
    "infeasible",
    "stopped_early",
    "running",
)
TERMINAL_STATES = (COMPLETE, FAILED, INFEASIBLE, STOPPED_EARLY)  # a recorded outcome
# States of the trials table only (a trial's ATTR_STATE is one of the five above):
# interrupted - abandoned by a search that stopped (ATTR_INTERRUPTED); not an outcome,
#               its parameters run again as a queued trial;
# queued      - waiting to run: an interrupted trial's re-run (ATTR_RETRY_OF) or a seed.
INTERRUPTED_TRIAL, QUEUED_TRIAL = "interrupted", "queued"
TRIAL_STATES = (*TERMINAL_STATES, INTERRUPTED_TRIAL, QUEUED_TRIAL, RUNNING_TRIAL)
ATTR_ATTEMPTS = "attempts"
# Duplicates become replicates (nas/engine/replicates.py): the digest of a trial's
# architecture and recipe, the training seed it ran with, and, for a re-proposal of an
# architecture already proposed, the first trial's number (trials.csv: replicate_of).
ATTR_ARCH_KEY, ATTR_TRAIN_SEED, ATTR_REPLICATE_OF = (
    "arch_key",
    "train_seed",
    "replicate_of",
)  # worker attempts of a trial: above 1 when a dead worker was retried
# `search.repeats: skip` (nas/engine/repeats.py): the key two equivalent architectures
# share, and on a repeat the first trial with it (trials.csv: repeat_of). A repeat is
# recorded with the first one's values but is not a query: it neither counts towards
# --trials nor stands on the front.
ATTR_REPEAT_KEY, ATTR_REPEAT_OF = "repeat_key", "repeat_of"
