# expect: full
# says: Score: 100/100
# Issue 25 (as root): the top level writes a file in /tmp, /var/tmp, /dev/shm and its home folder, and
# a folder of 300 files in /tmp. The child has private tmpfs mounts on the three temp folders and its
# home inside the private /tmp, so nothing of it reaches the host's folders, and it is gone when the
# grading ends (tests/test_namespaces.py looks, during and after). Graded as the correct code it is.
import os

import numpy as np

MARK = "hostile-private-temp"     # tests/test_namespaces.py looks for files of this name
for _folder in ("/tmp", "/var/tmp", "/dev/shm", os.environ.get("HOME", "/nonexistent")):
    try:
        with open(os.path.join(_folder, MARK), "w") as _f:
            _f.write("written by student code")
    except OSError:
        pass
try:
    os.makedirs("/tmp/%s-dir" % MARK, exist_ok=True)
    for _i in range(300):
        open("/tmp/%s-dir/%d" % (MARK, _i), "w").close()
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
