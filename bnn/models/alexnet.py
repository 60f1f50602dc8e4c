"""AlexNet, the paper's ImageNet model, as in the public XNOR-Net PyTorch code:

conv 96@11x11 stride 4 -> BN -> ReLU -> maxpool 3/2
-> binary 256@5x5 pad 2 -> maxpool 3/2
-> binary 384@3x3 pad 1 -> binary 384@3x3 pad 1 -> binary 256@3x3 pad 1 -> maxpool 3/2
-> flatten -> binary dense 4096 -> binary dense 4096 (dropout 0.5)
-> BN (1d, eps 1e-3) -> dropout 0.5 -> dense to classes.

A binary block is BN (affine, weight starts at 1, clamped to >= 0.01; eps 1e-4, momentum 0.1) -> sign (STE) ->
[dropout] -> binary conv or dense (XNOR-Net weights, float bias) -> ReLU. Weights N(0, 0.05^2), biases 0.

The input is 3 x input_size x input_size: 227 is the reference (6x6x256 = 9216 features reach the first dense
layer); a smaller input (e.g. 96 px for CPU runs) keeps the same layer sequence with smaller maps. The sequence needs
input_size >= 67 (each of the three 3/2 max pools needs at least a 3x3 map).

As in NiN (see nin.py), the binary block's dropout comes after the sign, where the reference code puts it.
"""
from ..kernels.im2col import conv_output_size
from ..layers import (BatchNorm, BinaryConv2d, BinaryDense, Conv2d, Dense, Dropout, Flatten, MaxPool2d, ReLU, Sign,
                      XnorWeights)
from ..model import Model

# The reference ImageNet recipe of the XNOR-Net PyTorch code: Adam lr 0.001, weight decay 1e-5, batch 256,
# lr x0.1 every 25 epochs, 100 epochs (its default command line).
RECIPE = dict(optimizer="adam", lr=0.001, weight_decay=1e-5, lr_schedule="step", lr_step=25, lr_gamma=0.1,
              batch_size=256, epochs=100)
# A CPU setting for small class subsets at a small input size (`--quick`, QUICK_RECIPES["alexnet"]): a few epochs,
# the same decay fractions.
QUICK_RECIPE = dict(RECIPE, lr_step=1, batch_size=32, epochs=4)

MIN_INPUT_SIZE = 67


def feature_side(input_size):
    """Side of the last feature map (256 channels) for a square input of `input_size` pixels."""
    side = conv_output_size(input_size, 11, 4, 0)
    for _ in range(3):   # the 5x5 and 3x3 convs keep the size (padding k // 2); only the pools shrink it
        side = conv_output_size(side, 3, 2, 0)
    return side


def alexnet(rng, num_classes=1000, input_size=227, weights=None, dropout=0.5):
    """Build AlexNet for (3, input_size, input_size) inputs. rng: Generator for the initialization, dropout and bit
    errors. weights: binary weight scheme; default XNOR-Net with the reference code's gradient (full, fan-in scale).
    dropout: rate of the two dropout layers (0 leaves them out)."""
    if int(input_size) != input_size or input_size < MIN_INPUT_SIZE:
        raise ValueError(f"input_size must be an integer >= {MIN_INPUT_SIZE} (three 3/2 max pools need a 3x3 map), "
                         f"got {input_size!r}")
    if int(num_classes) != num_classes or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    weights = weights or XnorWeights(gradient="full", scale_by_fan_in=True)
    features = 256 * feature_side(input_size) ** 2
    layers = [
        ("conv1", Conv2d(3, 96, 11, rng, stride=4)),
        ("bn1", BatchNorm(96, spatial=True, affine=True, eps=1e-4, momentum=0.1)),
        ("relu1", ReLU()),
        ("pool1", MaxPool2d(3, stride=2)),
    ]

    def block(name, layer, c_in, spatial, drop=False):
        layers.extend([
            (f"bn{name}", BatchNorm(c_in, spatial=spatial, affine=True, eps=1e-4, momentum=0.1, min_weight=0.01)),
            (f"sign{name}", Sign()),
        ])
        if drop and dropout:
            layers.append((f"drop{name}", Dropout(dropout, rng)))
        layers.extend([
            (f"{'conv' if spatial else 'fc'}{name}", layer),
            (f"relu{name}", ReLU()),
        ])

    block("2", BinaryConv2d(96, 256, 5, rng, weights, padding=2), 96, True)
    layers.append(("pool2", MaxPool2d(3, stride=2)))
    block("3", BinaryConv2d(256, 384, 3, rng, weights, padding=1), 256, True)
    block("4", BinaryConv2d(384, 384, 3, rng, weights, padding=1), 384, True)
    block("5", BinaryConv2d(384, 256, 3, rng, weights, padding=1), 384, True)
    layers.extend([("pool5", MaxPool2d(3, stride=2)), ("flatten", Flatten())])
    block("6", BinaryDense(features, 4096, rng, weights), features, False)
    block("7", BinaryDense(4096, 4096, rng, weights), 4096, False, drop=True)
    layers.append(("bn8", BatchNorm(4096, spatial=False, affine=True, eps=1e-3, momentum=0.1)))
    if dropout:
        layers.append(("drop8", Dropout(dropout, rng)))
    layers.append(("fc8", Dense(4096, num_classes, rng)))
    return Model(layers, input_shape=(3, input_size, input_size))
