# expect: full
# case: forward and backward loop over the examples one column at a time and accumulate.

import numpy as np


def initialize_parameters(n_x, n_h, n_y):
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def forward(X, parameters):
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    m = X.shape[1]
    Z1 = np.zeros((W1.shape[0], m))
    A1 = np.zeros((W1.shape[0], m))
    Z2 = np.zeros((W2.shape[0], m))
    A2 = np.zeros((W2.shape[0], m))
    for i in range(m):
        x = X[:, i:i + 1]
        z1 = W1 @ x + b1
        a1 = np.tanh(z1)
        z2 = W2 @ a1 + b2
        Z1[:, i:i + 1] = z1
        A1[:, i:i + 1] = a1
        Z2[:, i:i + 1] = z2
        A2[:, i:i + 1] = 1.0 / (1.0 + np.exp(-z2))
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    return A2, cache


def backward(parameters, cache, X, Y):
    W1, W2 = parameters["W1"], parameters["W2"]
    A1, A2 = cache["A1"], cache["A2"]
    m = X.shape[1]
    dW1 = np.zeros(W1.shape)
    db1 = np.zeros((W1.shape[0], 1))
    dW2 = np.zeros(W2.shape)
    db2 = np.zeros((W2.shape[0], 1))
    for i in range(m):
        x = X[:, i:i + 1]
        a1 = A1[:, i:i + 1]
        dz2 = A2[:, i:i + 1] - Y[:, i:i + 1]
        dW2 += dz2 @ a1.T
        db2 += dz2
        dz1 = (W2.T @ dz2) * (1.0 - a1 ** 2)
        dW1 += dz1 @ x.T
        db1 += dz1
    return {"dW1": dW1 / m, "db1": db1 / m, "dW2": dW2 / m, "db2": db2 / m}
