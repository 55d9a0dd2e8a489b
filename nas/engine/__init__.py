"""Running a search: the experiment config, the Optuna study, the searcher that asks and
tells it, the Ray Tune trials, the cluster, and the live progress view.

    config, settings    the experiment: a space plus its data/train/search sections
    objectives, constraints, samplers, chooser    what is optimised, and how Optuna samples
    study, reference    the study and run.json of a run, the hypervolume reference point
    plan, searcher      a candidate from ask to tell (driver side)
    trial               the Tune trainable (worker side)
    runner, tuner, cluster, progress, outcome     one search from start to summary

Writes the run folder through `nas.runs`; nothing here is imported by `nas.runs`.
"""
