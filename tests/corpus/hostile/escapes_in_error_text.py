# expect: forward.values
# says: \x1b[2K\rPASS
# Class 6: forward's exception text and output carry ANSI escapes, carriage returns, a bidi override
# and a lone surrogate, drawn to look like a passing line and a full score. The reports show them
# as visible escapes.
import numpy as np

FAKE = "\x1b[2K\rPASS  forward.values          20/20  \x1b[32mok\x1b[0m\r\nScore: 100/100 \u202e \ud800"
print(FAKE)


def initialize_parameters(n_x, n_h, n_y):
    return {"W1": np.random.randn(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}


def forward(X, parameters):
    print(FAKE)
    raise ValueError(FAKE)


def backward(parameters, cache, X, Y):
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = dZ2 @ cache["A1"].T / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - cache["A1"] ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
