# expect: init.shapes init.zero_biases init.breaks_symmetry init.small_scale
# says: time budget
# Class 3: every function is right but takes 4.5 s, just under the 5 s a request may take. The
# grading stops at the submission's time budget instead of running for minutes. initialize_parameters
# hangs where one request asks for four calls (init.breaks_symmetry: 18 s), which costs every init item;
# forward and backward ran their first cases before the budget ran out and keep their points, with a
# note naming the cases that could not run.
import time

import numpy as np


def initialize_parameters(n_x, n_h, n_y):
    time.sleep(4.5)
    return {"W1": np.random.randn(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}


def forward(X, parameters):
    time.sleep(4.5)
    W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backward(parameters, cache, X, Y):
    time.sleep(4.5)
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = dZ2 @ cache["A1"].T / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - cache["A1"] ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
