# expect: full
# Imports inside the functions, first run after the child has dropped to the private uid (where a Python
# installed under /root is unreadable): the child imports, before the drop, the modules the file names.
import numpy as np


def initialize_parameters(n_x, n_h, n_y):
    import statistics
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    assert statistics.fmean([0.0, 0.0]) == 0.0
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def forward(X, parameters):
    W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = 1 / (1 + np.exp(-Z2))
    np.testing.assert_array_less(-1e-12, A2)        # numpy.testing is imported only when first used
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backward(parameters, cache, X, Y):
    from fractions import Fraction
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = dZ2 @ cache["A1"].T * float(Fraction(1, m))
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - cache["A1"] ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
