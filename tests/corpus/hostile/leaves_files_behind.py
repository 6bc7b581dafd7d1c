# expect: full
# says: Score: 100/100
# Class 7 (as root): the top level leaves files in /tmp, /var/tmp and /dev/shm and a folder in /tmp,
# 2,000 levels deep.
# All are removed when the grading ends (tests/test_hostile.py checks the paths).
import os

import numpy as np

for _path in ("/tmp/hostile-leftover", "/var/tmp/hostile-leftover", "/dev/shm/hostile-leftover"):
    try:
        with open(_path, "w") as _f:
            _f.write("left behind")
    except OSError:
        pass
try:
    os.makedirs("/tmp/hostile-leftover-dir/inner", exist_ok=True)
    os.symlink("/etc/passwd", "/tmp/hostile-leftover-dir/inner/link")
    _here = os.getcwd()
    os.chdir("/tmp/hostile-leftover-dir/inner")
    for _ in range(2000):          # deeper than Python's recursion limit and than PATH_MAX
        os.mkdir("d")
        os.chdir("d")
    os.chdir(_here)
except OSError:
    pass


def initialize_parameters(n_x, n_h, n_y):
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
