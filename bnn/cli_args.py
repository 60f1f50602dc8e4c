"""Argument checks shared by the `python -m bnn` subcommands: argparse types that refuse a value out of range with
argparse's own message (`argument --epochs: must be a whole number >= 1, got '0'`, exit status 2), the names the
model and dataset flags accept, and the flags every subcommand takes before or after its name (--threads, --debug).
"""
import argparse
import math


def _number(text, convert, name):
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {name}, got {text!r}") from None


def whole_number_at_least(minimum):
    """An argparse type: an int >= minimum."""
    def parse(text):
        value = _number(text, int, f"a whole number >= {minimum}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
        return value
    return parse


positive_int = whole_number_at_least(1)
non_negative_int = whole_number_at_least(0)


def positive_float(text):
    """An argparse type: a finite float > 0 (a learning rate)."""
    value = _number(text, float, "a finite number > 0")
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def probability(text):
    """An argparse type: a float in [0, 1] (a bit error rate); NaN is refused."""
    value = _number(text, float, "a probability in [0, 1]")
    if not 0.0 <= value <= 1.0:     # false for NaN as well
        raise argparse.ArgumentTypeError(f"must be a probability in [0, 1], got {text!r}")
    return value


def model_names():
    from .models import BUILDERS
    return sorted(BUILDERS)


def dataset_names():
    import datasets
    return sorted(datasets.REGISTRY)


def add_common_arguments(parser, threads=True, suppress=False):
    """--debug (and --threads, if `threads`) on `parser`. suppress: leave the attribute unset when the flag is not
    given, so that the same flag given before the subcommand (on the main parser) is kept."""
    default = {"default": argparse.SUPPRESS} if suppress else {}
    if threads:
        parser.add_argument("--threads", type=positive_int, metavar="N", **default,
                            help="Numba threads (default: all cores; in a sweep per run, default cores // workers); "
                                 "BLAS gets 1 unless OPENBLAS_NUM_THREADS is set")
    parser.add_argument("--debug", action="store_true", **default,
                        help="show the Python traceback of an error instead of its one-line message")
