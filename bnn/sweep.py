"""BER sweeps: one independent training run per (bit error rate, repeat), in parallel, resumable, shareable.

A sweep trains the same base config once per (BER, repeat) pair, each run with the training-time BER replaced and its
own seed, and collects the results. Runs are tested without errors (the error config's default).

    python -m bnn sweep --model lenet4 --ber 0 0.001 0.01 0.02 0.05 0.1 0.2 --repeats 3 --epochs 5 --out DIR
    python -m bnn sweep --config sweep.toml          # the same as a file: see EXAMPLE_TOML
    python -m bnn results DIR                        # one row per run, finished or still training (bnn.results_cli)
    python -m bnn plot DIR                           # DIR/ber_accuracy.png and .svg (bnn.sweep_plot)

Rerunning a sweep skips finished runs and resumes interrupted ones; two sweeps started into one folder never train a
run twice. This module is the sweep's public API; each idea lives in its own module, and everything is importable
from here:

    bnn.sweep_plan      which runs: seeds, per-run configs, run folders, repeat-major order (plan, run_seed, ...)
    bnn.sweep_run       one run in a worker: lock, skip or resume, train, result.json (execute_run, default_trainer)
    bnn.sweep_execute   all runs: local process pool or Dask, progress lines, the two passes (sweep)
    bnn.results         the folder layout, results.csv / results.h5, rows of unfinished runs, summaries
    bnn.sweep_cli       `python -m bnn sweep`: flags, TOML files, MTJ operating points (run_sweep_from_args)

Imports go one way: sweep_cli -> sweep_execute -> sweep_run / sweep_plan -> results (and bnn.bridge -> results);
none of them imports this module.
"""
from .results import (INTEGER_COLUMNS, METRICS, RESULT_COLUMNS, collect_results, csv_text,
                      finished_records, locked, package_version, read_record, read_results, run_dir,
                      run_rows, summarize, summary_table, write_text_atomic)
from .sweep_cli import (EXAMPLE_TOML, SWEEP_DEFAULTS, TRAIN_FLAGS, add_bridge_arguments, add_sweep_arguments,
                        load_toml, run_sweep_from_args, runs_from_args, settings_from_args, train_source)
from .sweep_execute import (BLAS_THREAD_VARIABLES, THREAD_VARIABLES, Progress, available_cores, local_parallelism,
                            sweep, thread_environment)
from .sweep_plan import RunSpec, base_config, check_bers, plan, repeats_per_ber, run_config, run_seed, whole_number
from .sweep_run import (RunOutcome, config_record, default_trainer, execute_run, read_result, run_summary,
                        set_numba_threads, train_logging_epochs)

__all__ = [
    "BLAS_THREAD_VARIABLES", "EXAMPLE_TOML", "INTEGER_COLUMNS", "METRICS", "RESULT_COLUMNS", "SWEEP_DEFAULTS",
    "THREAD_VARIABLES", "TRAIN_FLAGS", "Progress", "RunOutcome", "RunSpec", "add_bridge_arguments",
    "add_sweep_arguments", "available_cores", "base_config", "check_bers", "collect_results", "config_record",
    "csv_text", "default_trainer", "execute_run", "finished_records", "load_toml", "local_parallelism", "locked",
    "package_version", "plan", "read_record", "read_result", "read_results", "repeats_per_ber", "run_config",
    "run_dir", "run_rows", "run_seed", "run_summary", "run_sweep_from_args", "runs_from_args", "set_numba_threads",
    "settings_from_args", "summarize", "summary_table", "sweep", "thread_environment", "train_logging_epochs",
    "train_source", "whole_number", "write_text_atomic",
]
