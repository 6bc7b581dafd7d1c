# expect: forward.values
# says: Failing case
# Class 3: forward is wrong (A2 halved) for cases with n_x*m*n_h >= 20 and takes 3.5 s, so hypothesis'
# shrinking (about 40 calls) would run for minutes. The budget ends the search; forward keeps its real
# failure (unshrunk). backward got its cases before any search began (budget order), so it keeps its points.
import time

import numpy as np


def initialize_parameters(n_x, n_h, n_y):
    return {"W1": np.random.randn(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}


def forward(X, parameters):
    time.sleep(3.5)
    W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = 1 / (1 + np.exp(-Z2))
    k = 2 if X.shape[0] * X.shape[1] * W1.shape[0] >= 20 else 1     # wrong only for larger cases
    return A2 / k, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2 / k}


def backward(parameters, cache, X, Y):
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = dZ2 @ cache["A1"].T / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - cache["A1"] ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
