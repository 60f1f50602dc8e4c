"""LeNet-4, the paper's MNIST model, as in the public XNOR-Net PyTorch code:

conv 20@5x5 -> BN (no affine) -> ReLU -> maxpool 2
-> [BN 20 -> sign -> binary conv 50@5x5 -> ReLU] -> maxpool 2
-> [BN 50 (2d, before flattening, as the reference's previous_conv branch) -> sign -> flatten 800
    -> binary dense 500 -> ReLU]
-> dense 10.
BatchNorm eps 1e-4, momentum 0.1; binary-block BN weights start at 1 and are clamped to >= 0.01.
Conv/dense weights N(0, 0.05^2), biases 0.

ReLU and 2x2 max pooling are applied as pool -> ReLU: max(relu(a), relu(b)) = relu(max(a, b)), and the gradient is
the same too (the first maximum of a window gets it either way, and ReLU blocks it exactly when that maximum is
<= 0), but the ReLU then touches a quarter of the values.
"""
from ..layers import BatchNorm, BinaryConv2d, BinaryDense, Conv2d, Dense, Flatten, MaxPool2d, ReLU, Sign, XnorWeights
from ..model import Model

# The reference code's final MNIST recipe (DESIGN.md "Reference facts"): Adam, lr 0.01, weight decay 1e-5,
# lr / 10 every 15 epochs, batch 128, 60 epochs.
RECIPE = dict(optimizer="adam", lr=0.01, weight_decay=1e-5, lr_schedule="step", lr_step=15, lr_gamma=0.1,
              batch_size=128, epochs=60)
# A CPU setting: the reference recipe scaled to 5 epochs (lr / 10 every 1.25 epochs: 0.01, 0.01, 1e-3, 1e-4, 1e-5),
# 98.75 % on MNIST (docs/results.md) against 99.17 % after the full 60.
QUICK_RECIPE = dict(RECIPE, lr_step=1.25, epochs=5)


def lenet4(rng, weights=None, num_classes=10):
    """Build LeNet-4 for (1, 28, 28) inputs. rng: Generator for the initialization (and later bit errors).
    weights: binary weight scheme; default XNOR-Net with the reference code's gradient (full, fan-in scale)."""
    weights = weights or XnorWeights(gradient="full", scale_by_fan_in=True)

    def bn(channels):
        return BatchNorm(channels, spatial=True, affine=True, eps=1e-4, momentum=0.1, min_weight=0.01)

    return Model([
        ("conv1", Conv2d(1, 20, 5, rng)),
        ("bn1", BatchNorm(20, spatial=True, affine=False, eps=1e-4, momentum=0.1)),
        ("pool1", MaxPool2d(2)),
        ("relu1", ReLU()),
        ("bn2", bn(20)),
        ("sign2", Sign()),
        ("conv2", BinaryConv2d(20, 50, 5, rng, weights)),
        ("pool2", MaxPool2d(2)),
        ("relu2", ReLU()),
        ("bn3", bn(50)),
        ("sign3", Sign()),
        ("flatten", Flatten()),
        ("fc3", BinaryDense(800, 500, rng, weights)),
        ("relu3", ReLU()),
        ("fc4", Dense(500, num_classes, rng)),
    ], input_shape=(1, 28, 28))
