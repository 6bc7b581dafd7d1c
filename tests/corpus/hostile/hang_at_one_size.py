# expect: backward.gradients
# says: While the grader looked for a smaller failing case
# Issue 23 (true hang messages): backward doubles dW2 once there are 4 examples or more, and loops for ever
# at one small size only (one input, one hidden unit, one output, 2 examples or more), which generated cases
# never meet but shrinking does. The report keeps the failure found before the search, at its own case,
# and says at which sizes backward hung; backward.shapes, whose cases never hang, keeps its points.
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
    n_x, m = X.shape
    if n_x == 1 and parameters["W1"].shape[0] == 1 and Y.shape[0] == 1 and m >= 2:
        while True:
            pass
    dZ2 = cache["A2"] - Y
    dW2 = dZ2 @ cache["A1"].T / m
    if m >= 4:
        dW2 = 2 * dW2
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - cache["A1"] ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
