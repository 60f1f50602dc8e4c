"""The Numba kernels of ``bnn`` (the only place Numba lives): bit-level XNOR-popcount kernels of the binary layers,
and the memory-bound float passes (im2col, pooling, batch normalization, XNOR-Net weight binarization, Adam) that
NumPy would spread over many passes.

Bit convention (see :mod:`bnn.kernels.bitpack`): bit 1 = +1, bit 0 = −1, sign(0) = +1, element i of a packed axis
at bit i % 64 of word i // 64, tail bits 0.  Every Numba kernel has a NumPy twin in :mod:`bnn.kernels.reference`.
"""
from .batchnorm import batchnorm_train, batchnorm_train_backward
from .bitpack import (n_words, pack_conv_input, pack_conv_weights, pack_signs, tail_mask, unpack_conv_input,
                      unpack_signs)
from .conv import binary_conv2d, binary_conv2d_packed
from .flips import flip_bits, flip_mask
from .gemm import binary_dense, xnor_gemm
from .im2col import col2im, conv_output_size, im2col
from .pool import avgpool2d, avgpool2d_backward, maxpool2d, maxpool2d_backward
from .popcount import popcount, popcount64

__all__ = [
    "avgpool2d", "avgpool2d_backward", "batchnorm_train", "batchnorm_train_backward", "binary_conv2d",
    "binary_conv2d_packed", "binary_dense", "col2im", "conv_output_size", "flip_bits", "flip_mask", "im2col",
    "maxpool2d", "maxpool2d_backward", "n_words", "pack_conv_input", "pack_conv_weights", "pack_signs", "popcount",
    "popcount64", "tail_mask", "unpack_conv_input", "unpack_signs", "xnor_gemm",
]
