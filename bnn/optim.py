"""Optimizers over a model's named parameters, and learning-rate schedules.

Both optimizers follow PyTorch's definitions, so the reference recipes carry over unchanged:
weight decay is L2 added to the gradient (g + wd * w) before the update, also for Adam.
Optimizer state is a dict of named arrays (`state_dict` / `load_state_dict`) so checkpoints can hold it.
"""
import math

import numpy as np

from .kernels.adam import adam_update


class SGD:
    """SGD with momentum (buf = momentum * buf + g; w -= lr * buf) and L2 weight decay."""

    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0):
        self.params, self.lr = params, float(lr)
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)
        self.buffers = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self, grads):
        for name, p in self.params.items():
            g = grads[name] + self.weight_decay * p if self.weight_decay else grads[name]
            buf = self.buffers[name]
            buf *= self.momentum
            buf += g
            p -= self.lr * buf

    def state_dict(self):
        return {"momentum_buffer": self.buffers}, {}

    def load_state_dict(self, arrays, scalars):
        _copy_into(self.buffers, arrays["momentum_buffer"])


class Adam:
    """Adam (Kingma & Ba) with PyTorch's bias correction and eps placement, and L2 weight decay. The update of each
    array is one Numba pass (bnn.kernels.adam)."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params, self.lr = params, float(lr)
        self.beta1, self.beta2 = (float(b) for b in betas)
        self.eps, self.weight_decay = float(eps), float(weight_decay)
        self.m = {name: np.zeros_like(p) for name, p in params.items()}
        self.v = {name: np.zeros_like(p) for name, p in params.items()}
        self.t = 0

    def step(self, grads):
        self.t += 1
        correction1 = 1 - self.beta1 ** self.t
        step_size = self.lr / correction1
        sqrt_correction2 = math.sqrt(1 - self.beta2 ** self.t)
        for name, p in self.params.items():
            adam_update(p, grads[name], self.m[name], self.v[name], step_size, self.beta1, self.beta2,
                        sqrt_correction2, self.eps, self.weight_decay)

    def state_dict(self):
        """(named arrays, scalars) of the optimizer state."""
        return {"m": self.m, "v": self.v}, {"t": self.t}

    def load_state_dict(self, arrays, scalars):
        _copy_into(self.m, arrays["m"])
        _copy_into(self.v, arrays["v"])
        self.t = int(scalars["t"])


def _copy_into(own, saved):
    if set(own) != set(saved):
        raise ValueError(f"optimizer state does not fit the model's parameters: missing {sorted(set(own) - set(saved))},"
                         f" unexpected {sorted(set(saved) - set(own))}")
    for name, array in own.items():
        array[...] = saved[name]


def make_optimizer(name, params, lr, weight_decay=0.0, momentum=0.9):
    """'adam' or 'sgd' over the {name: array} params."""
    if name == "adam":
        return Adam(params, lr, weight_decay=weight_decay)
    if name == "sgd":
        return SGD(params, lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {name!r}")


def learning_rate(epoch, base_lr, schedule="constant", step=None, milestones=(), gamma=0.1):
    """Learning rate for 0-based `epoch`.

    schedule 'constant': base_lr.  'step': base_lr * gamma ** floor(epoch / step), step in epochs (may be a
    fraction, so a recipe's schedule can be scaled to a shorter run).  'multistep': base_lr * gamma ** (number of
    milestones <= epoch), milestones as 0-based epochs at which the decay takes effect (PyTorch's MultiStepLR).
    """
    if schedule == "constant":
        return base_lr
    if schedule == "step":
        if step is None or step <= 0:
            raise ValueError(f"the step schedule needs step > 0 epochs, got {step}")
        return base_lr * gamma ** math.floor(epoch / step + 1e-9)
    if schedule == "multistep":
        return base_lr * gamma ** sum(epoch >= m for m in milestones)
    raise ValueError(f"lr schedule must be 'constant', 'step' or 'multistep', got {schedule!r}")
