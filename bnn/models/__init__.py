"""Model builders and their training recipes.

`build(name, rng)` returns a Model; `RECIPES[name]` holds the reference recipe's defaults (optimizer, lr, schedule,
epochs, ...) and `QUICK_RECIPES[name]` a short one for CPU runs (`python -m bnn train --quick`)."""
from .alexnet import QUICK_RECIPE as ALEXNET_QUICK_RECIPE
from .alexnet import RECIPE as ALEXNET_RECIPE
from .alexnet import alexnet
from .lenet4 import QUICK_RECIPE as LENET4_QUICK_RECIPE
from .lenet4 import RECIPE as LENET4_RECIPE
from .lenet4 import lenet4
from .nin import QUICK_RECIPE as NIN_QUICK_RECIPE
from .nin import RECIPE as NIN_RECIPE
from .nin import nin

BUILDERS = {"lenet4": lenet4, "nin": nin, "alexnet": alexnet}
RECIPES = {"lenet4": LENET4_RECIPE, "nin": NIN_RECIPE, "alexnet": ALEXNET_RECIPE}
QUICK_RECIPES = {"lenet4": LENET4_QUICK_RECIPE, "nin": NIN_QUICK_RECIPE, "alexnet": ALEXNET_QUICK_RECIPE}
# nin: the CIFAR-10 copy available offline; alexnet: an image folder (ImageNet or a class subset; needs a source).
DATASETS = {"lenet4": "mnist", "nin": "cifar10-jpeg", "alexnet": "imagefolder"}


def build(name, rng, **options):
    """The model `name` (one of BUILDERS), initialized from the Generator rng."""
    if name not in BUILDERS:
        raise ValueError(f"unknown model {name!r}; available: {sorted(BUILDERS)}")
    return BUILDERS[name](rng, **options)


__all__ = ["BUILDERS", "DATASETS", "QUICK_RECIPES", "RECIPES", "alexnet", "build", "lenet4", "nin"]
