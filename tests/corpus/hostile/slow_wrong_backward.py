# expect: backward.gradients
# says: differs from the derivative of J
# Class 3 (issue 23, budget order): backward's gradients are wrong (dW2 doubled) and every call takes 4 s,
# just under the 5 s a request may take, so the submission's 60 s budget cannot cover all its cases and a
# search. backward.gradients fails at its first case; backward.shapes, whose first case runs before any
# search, is right and keeps its points (the cases the budget cut are named in a note), and the search
# that runs out of time keeps the real failure, unshrunk.
import time

import numpy as np


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
    time.sleep(4.0)
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = 2 * (dZ2 @ cache["A1"].T) / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - cache["A1"] ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
