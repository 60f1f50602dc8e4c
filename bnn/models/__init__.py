"""Model builders and their reference training recipes.

`build(name, rng)` returns a Model; `RECIPES[name]` holds the recipe's defaults (optimizer, lr, schedule, ...)."""
from .lenet4 import RECIPE as LENET4_RECIPE
from .lenet4 import lenet4

BUILDERS = {"lenet4": lenet4}
RECIPES = {"lenet4": LENET4_RECIPE}
DATASETS = {"lenet4": "mnist"}


def build(name, rng, **options):
    """The model `name` (one of BUILDERS), initialized from the Generator rng."""
    if name not in BUILDERS:
        raise ValueError(f"unknown model {name!r}; available: {sorted(BUILDERS)}")
    return BUILDERS[name](rng, **options)


__all__ = ["BUILDERS", "DATASETS", "RECIPES", "build", "lenet4"]
