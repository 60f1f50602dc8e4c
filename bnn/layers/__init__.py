"""Layers of the engine: each a forward/backward pair over NumPy arrays (see base.py for the protocol)."""
from .activation import Dropout, Flatten, ReLU, Sign
from .base import Layer
from .batchnorm import BatchNorm
from .binary import BinaryConv2d, BinaryDense
from .binary_weights import BinaryNetWeights, XnorWeights, weight_scheme
from .conv import Conv2d
from .dense import Dense
from .loss import softmax_cross_entropy
from .pool import AvgPool2d, MaxPool2d

__all__ = ["AvgPool2d", "BatchNorm", "BinaryConv2d", "BinaryDense", "BinaryNetWeights", "Conv2d", "Dense",
           "Dropout", "Flatten", "Layer", "MaxPool2d", "ReLU", "Sign", "XnorWeights", "softmax_cross_entropy",
           "weight_scheme"]
