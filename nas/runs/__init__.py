"""A run folder: its format, how it is written and read, and what is made from it.

    format              file names, columns, attribute keys and states (the contract)
    atomic              writes that a reader never sees half done
    folder, study_reader    open a run and read its study (Optuna's ORM or plain SQLite)
    pareto, results     front, ranks and hypervolume; the trials table of a study
    tables, plots       trials.csv, pareto.csv, pruned weights, pictures
    report              `nas report`: the front table and its --json document
    picks, export, convert, card, load    `nas export`, its formats, model card, reload

Readable without Ray: nothing here imports `nas.engine`, `nas.cli` or ray.
"""
