# expect: init.shapes init.zero_biases init.breaks_symmetry init.small_scale
# says: initialize_parameters
# Class 7 (as root): the first call forks six processes that each touch 600 MB, 3.6 GB together,
# each under the per-process limit. The submission's memory cgroup (3 GiB for all of its processes)
# kills some, and initialize_parameters then returns nothing useful. Not as root there is no cgroup.
import os
import time

import numpy as np

_KILLED = []


def _fork_memory():
    kids = []
    for _ in range(6):
        pid = os.fork()
        if pid == 0:
            block = np.ones(600 * 2**20 // 8)
            time.sleep(2)
            os._exit(0 if block[0] == 1 else 1)
        kids.append(pid)
    return [os.waitpid(pid, 0)[1] for pid in kids]


def initialize_parameters(n_x, n_h, n_y):
    if not _KILLED:
        _KILLED.append(any(_fork_memory()))
    if _KILLED[0]:
        return None
    return {"W1": np.random.randn(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}


def forward(X, parameters):
    W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backward(parameters, cache, X, Y):
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = dZ2 @ cache["A1"].T / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - cache["A1"] ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
