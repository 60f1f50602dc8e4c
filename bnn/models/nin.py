"""NiN (network in network), the paper's CIFAR-10/100 and SVHN model, as in the public XNOR-Net PyTorch code:

conv 192@5x5 pad 2 -> BN (no affine) -> ReLU
-> binary 160@1x1 -> binary 96@1x1 -> maxpool 3/2 pad 1
-> binary 192@5x5 pad 2 (dropout 0.5) -> binary 192@1x1 -> binary 192@1x1 -> avgpool 3/2 pad 1
-> binary 192@3x3 pad 1 (dropout 0.5) -> binary 192@1x1
-> BN (no affine) -> conv 10@1x1 -> ReLU -> global avgpool (8x8).

A binary block is BN (affine, weight starts at 1, clamped to >= 0.01; eps 1e-4, momentum 0.1) -> sign (STE) ->
[dropout 0.5] -> binary conv (XNOR-Net weights, float bias) -> ReLU. Conv weights N(0, 0.05^2), biases 0.

Dropout sits where the reference code puts it, after the sign: the binary conv reads {0, +-2} during training and
computes that product exactly as two XNOR-popcount products (bnn/layers/binary.py); the BatchNorm in front of it
sees the same undropped input in training and at test, so its running statistics are those the test pass needs.
A bit error flips a sign bit; a dropped entry stays 0 whatever its bit. `dropout=0` removes the two dropout
layers (bnn.train builds models with their defaults, so training runs keep dropout 0.5).
"""
from ..layers import (AvgPool2d, BatchNorm, BinaryConv2d, Conv2d, Dropout, Flatten, MaxPool2d, ReLU, Sign,
                      XnorWeights)
from ..model import Model

# The reference recipe (DESIGN.md "Reference facts"): Adam lr 0.01, weight decay 1e-5, batch 128, 320 epochs,
# lr x0.1 at epochs 120, 200, 240, 280 (0-based milestones, as PyTorch's MultiStepLR).
RECIPE = dict(optimizer="adam", lr=0.01, weight_decay=1e-5, lr_schedule="multistep",
              lr_milestones=(120, 200, 240, 280), lr_gamma=0.1, batch_size=128, epochs=320)
# The authors' own public NiN setting: 200 epochs, x0.1 at 40/80/120/160, on the first 10,000 training images.
# The subset is not part of the dict: `train_subset` keeps the first n images *in the dataset's order*, and the
# image-folder copy (cifar10-jpeg) is sorted by class, so its first 10,000 are two classes. Take a balanced subset
# from the data instead (see benchmarks/reproduce_cifar10.py and docs/results_cifar10.md).
SHORT_RECIPE = dict(RECIPE, lr_milestones=(40, 80, 120, 160), epochs=200)
# A CPU setting (`--quick`, QUICK_RECIPES["nin"]): the short recipe's schedule shape compressed to 10 epochs (decays
# at the same fractions: 2, 4, 6, 8). Like SHORT_RECIPE it leaves the data alone: choose a subset as said above.
QUICK_RECIPE = dict(SHORT_RECIPE, lr_milestones=(2, 4, 6, 8), epochs=10)

CHANNELS = 192


def nin(rng, num_classes=10, weights=None, dropout=0.5, input_channels=3):
    """Build NiN for (input_channels, 32, 32) inputs. rng: Generator for the initialization, dropout and bit errors.
    weights: binary weight scheme; default XNOR-Net with the reference code's gradient (full, fan-in scale).
    dropout: rate of the two dropout layers (0 leaves them out)."""
    weights = weights or XnorWeights(gradient="full", scale_by_fan_in=True)
    layers = [
        ("conv1", Conv2d(input_channels, CHANNELS, 5, rng, padding=2)),
        ("bn1", BatchNorm(CHANNELS, spatial=True, affine=False, eps=1e-4, momentum=0.1)),
        ("relu1", ReLU()),
    ]

    def block(name, c_in, c_out, k, drop=False):
        layers.extend([
            (f"bn{name}", BatchNorm(c_in, spatial=True, affine=True, eps=1e-4, momentum=0.1, min_weight=0.01)),
            (f"sign{name}", Sign()),
        ])
        if drop and dropout:
            layers.append((f"drop{name}", Dropout(dropout, rng)))
        layers.extend([
            (f"conv{name}", BinaryConv2d(c_in, c_out, k, rng, weights, padding=k // 2)),
            (f"relu{name}", ReLU()),
        ])

    block("2", CHANNELS, 160, 1)
    block("3", 160, 96, 1)
    layers.append(("pool3", MaxPool2d(3, stride=2, padding=1)))
    block("4", 96, CHANNELS, 5, drop=True)
    block("5", CHANNELS, CHANNELS, 1)
    block("6", CHANNELS, CHANNELS, 1)
    layers.append(("pool6", AvgPool2d(3, stride=2, padding=1)))
    block("7", CHANNELS, CHANNELS, 3, drop=True)
    block("8", CHANNELS, CHANNELS, 1)
    layers.extend([
        ("bn9", BatchNorm(CHANNELS, spatial=True, affine=False, eps=1e-4, momentum=0.1)),
        ("conv9", Conv2d(CHANNELS, num_classes, 1, rng)),
        ("relu9", ReLU()),
        ("pool9", AvgPool2d(None)),
        ("flatten", Flatten()),
    ])
    return Model(layers, input_shape=(input_channels, 32, 32))
