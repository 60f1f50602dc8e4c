"""NiN and AlexNet: layer sequence and shapes, summary totals, recipes, gradient flow, and a few steps that learn."""
import numpy as np
import pytest

from bnn.layers import BinaryConv2d, BinaryDense, Conv2d, Dense, Dropout, softmax_cross_entropy
from bnn.models import BUILDERS, DATASETS, RECIPES, build
from bnn.models.alexnet import MIN_INPUT_SIZE, alexnet, feature_side
from bnn.models.nin import QUICK_RECIPE, SHORT_RECIPE, nin
from bnn.optim import make_optimizer
from bnn.train import TrainConfig


def weight_layers(model):
    return [(type(layer).__name__, layer.params["weight"].shape) for layer in model.layers
            if isinstance(layer, (Conv2d, Dense, BinaryConv2d, BinaryDense))]


def test_nin_layer_sequence_is_the_reference():
    model = nin(np.random.default_rng(0))
    assert weight_layers(model) == [
        ("Conv2d", (192, 3, 5, 5)), ("BinaryConv2d", (160, 192, 1, 1)), ("BinaryConv2d", (96, 160, 1, 1)),
        ("BinaryConv2d", (192, 96, 5, 5)), ("BinaryConv2d", (192, 192, 1, 1)), ("BinaryConv2d", (192, 192, 1, 1)),
        ("BinaryConv2d", (192, 192, 3, 3)), ("BinaryConv2d", (192, 192, 1, 1)), ("Conv2d", (10, 192, 1, 1))]
    shapes = dict(zip([layer.name for layer in model.layers], model.output_shapes(batch=4)))
    assert shapes["pool3"] == (4, 96, 16, 16) and shapes["pool6"] == (4, 192, 8, 8) and shapes["pool9"] == (4, 10, 1, 1)
    names = [layer.name for layer in model.layers]
    assert [layer.name for layer in model.layers if isinstance(layer, Dropout)] == ["drop4", "drop7"]
    assert names[names.index("sign4"):names.index("conv4") + 1] == ["sign4", "drop4", "conv4"]   # the reference's order
    assert not any(isinstance(layer, Dropout) for layer in nin(np.random.default_rng(0), dropout=0).layers)


@pytest.mark.parametrize("classes", [10, 100])
def test_nin_output_shape(classes):
    model = nin(np.random.default_rng(0), num_classes=classes).eval()
    x = np.random.default_rng(1).standard_normal((3, 3, 32, 32)).astype(np.float32)
    logits = model.forward(x)
    assert logits.shape == (3, classes) and logits.dtype == np.float32 and np.all(np.isfinite(logits))


def total_row(model):
    line = [row for row in model.summary().splitlines() if row.startswith("total")][0]
    return [int(v.replace(",", "")) for v in line.split()[1:]]


def test_nin_summary_totals():
    binary = 192 * 160 + 160 * 96 + 96 * 192 * 25 + 2 * 192 * 192 + 192 * 192 * 9 + 192 * 192
    binary_macs = (192 * 160 + 160 * 96) * 32 * 32 + (96 * 192 * 25 + 2 * 192 * 192) * 16 * 16 + \
        (192 * 192 * 9 + 192 * 192) * 8 * 8
    float_macs = 3 * 192 * 25 * 32 * 32 + 192 * 10 * 8 * 8
    float_params, binary_params, float_bytes, packed_bytes, fmacs, bmacs = total_row(nin(np.random.default_rng(0)))
    assert (binary_params, fmacs, bmacs) == (binary, float_macs, binary_macs)
    assert float_bytes == 4 * (float_params + binary_params)
    assert packed_bytes < float_bytes / 15   # packed binary weights: ~19x less weight memory


def test_alexnet_reference_and_small_input_shapes():
    model = alexnet(np.random.default_rng(0))
    assert feature_side(227) == 6 and model.output_shapes()[-1] == (1, 1000)
    assert weight_layers(model)[-3:] == [("BinaryDense", (4096, 9216)), ("BinaryDense", (4096, 4096)),
                                         ("Dense", (1000, 4096))]
    float_params, binary_params, *_ = total_row(model)
    assert binary_params == 96 * 256 * 25 + 256 * 384 * 9 + 384 * 384 * 9 + 384 * 256 * 9 + 9216 * 4096 + 4096 ** 2
    small = alexnet(np.random.default_rng(0), num_classes=2, input_size=MIN_INPUT_SIZE).eval()
    assert [kind for kind, _ in weight_layers(small)] == [kind for kind, _ in weight_layers(model)]
    x = np.random.default_rng(1).standard_normal((2, 3, MIN_INPUT_SIZE, MIN_INPUT_SIZE)).astype(np.float32)
    assert small.forward(x).shape == (2, 2)


@pytest.mark.parametrize("kwargs, message", [
    (dict(input_size=MIN_INPUT_SIZE - 1), f"input_size must be an integer >= {MIN_INPUT_SIZE}.*got 66"),
    (dict(input_size=96.5), "input_size must be an integer"),
    (dict(num_classes=1), "num_classes must be an integer >= 2, got 1"),
])
def test_alexnet_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        alexnet(np.random.default_rng(0), **kwargs)


def test_registry_and_recipes():
    assert {"nin", "alexnet"} <= set(BUILDERS) and DATASETS["nin"] == "cifar10-jpeg"
    assert isinstance(build("nin", np.random.default_rng(0)).layers[-1].name, str)
    nin_recipe = TrainConfig.recipe("nin")
    assert (nin_recipe.optimizer, nin_recipe.lr, nin_recipe.weight_decay, nin_recipe.batch_size) == ("adam", 0.01,
                                                                                                   1e-5, 128)
    assert nin_recipe.epochs == 320 and nin_recipe.lr_milestones == (120, 200, 240, 280)
    assert TrainConfig.recipe("nin", epochs=32).lr_milestones == (12, 20, 24, 28)
    assert SHORT_RECIPE["epochs"] == 200 and SHORT_RECIPE["lr_milestones"] == (40, 80, 120, 160)
    assert TrainConfig(**QUICK_RECIPE, model="nin", dataset="cifar10-jpeg").epochs == 10
    assert TrainConfig.recipe("alexnet").epochs == RECIPES["alexnet"]["epochs"]


def steps(model, x, y, n, lr=0.01):
    optimizer = make_optimizer("adam", model.params(), lr, 1e-5)
    model.constrain()
    model.train()
    losses = []
    for _ in range(n):
        loss, dlogits = softmax_cross_entropy(model.forward(x), y)
        model.backward(dlogits)
        optimizer.step(model.grads())
        model.constrain()
        losses.append(loss)
    return losses


def test_nin_gradients_reach_every_parameter():
    rng = np.random.default_rng(2)
    model = nin(rng)
    x = rng.standard_normal((4, 3, 32, 32)).astype(np.float32)
    loss, dlogits = softmax_cross_entropy(model.train().forward(x), np.array([0, 1, 2, 3]))
    model.backward(dlogits)
    grads = model.grads()
    assert set(grads) == set(model.params())
    for name, grad in grads.items():
        assert grad.shape == model.params()[name].shape and np.all(np.isfinite(grad)), name
        assert np.any(grad != 0), f"{name} receives no gradient"


def test_nin_few_steps_reduce_the_loss_on_a_tiny_batch():
    rng = np.random.default_rng(3)
    model = nin(rng, dropout=0)
    x = rng.standard_normal((8, 3, 32, 32)).astype(np.float32)
    losses = steps(model, x, np.arange(8) % 10, 8)
    assert losses[-1] < 0.7 * losses[0]


def test_alexnet_few_steps_reduce_the_loss_with_bit_errors():
    from bnn.errors import ErrorConfig
    from bnn.train import attach_errors
    rng = np.random.default_rng(4)
    model = alexnet(rng, num_classes=2, input_size=MIN_INPUT_SIZE, dropout=0)
    attach_errors(model, ErrorConfig(ber=0.05), epoch=0, rng=rng)
    x = rng.standard_normal((6, 3, MIN_INPUT_SIZE, MIN_INPUT_SIZE)).astype(np.float32)
    losses = steps(model, x, np.arange(6) % 2, 6, lr=0.001)
    # Six images with 5 % of the activations flipped: single-step losses jump around (BatchNorm over 6 images turns
    # a 1e-7 change in alpha into different signs), so the last step's loss is a coin toss; the best one is not.
    assert min(losses[1:]) < 0.5 * losses[0]
    assert all(np.isfinite(g).all() for g in model.grads().values())
