# expect: forward.values backward.gradients
# says: nan
import numpy as np


def initialize_parameters(n_x, n_h, n_y):
    """Return small random weights and zero biases for the network.

    Arguments:
        n_x -- number of inputs
        n_h -- number of hidden units
        n_y -- number of outputs

    Returns a dict with
        "W1": (n_h, n_x)  Gaussian draws times 0.01
        "b1": (n_h, 1)    zeros
        "W2": (n_y, n_h)  Gaussian draws times 0.01
        "b2": (n_y, 1)    zeros

    Why random: if every hidden unit starts with the same weights, every unit
    computes the same value and receives the same gradient, so they stay
    copies of each other however long you train. Random draws make them differ.

    Why small: a large weight makes |Z| large, where tanh and sigmoid are flat;
    their slope is then near zero and gradient descent crawls.

    Why zero biases are fine: once the weights differ, the units differ already.

    Draw from numpy's global generator (np.random.randn) so that
    np.random.seed(...) makes your run reproducible. Do not seed inside.
    """
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def forward(X, parameters):
    """Run the network forward on a batch of examples.

    Arguments:
        X -- inputs, shape (n_x, m): one example per column
        parameters -- dict with "W1" (n_h, n_x), "b1" (n_h, 1),
                      "W2" (n_y, n_h), "b2" (n_y, 1)

    Returns (A2, cache):
        A2    -- output probabilities, shape (n_y, m)
        cache -- dict with "Z1", "A1" (both (n_h, m)) and "Z2", "A2" (both (n_y, m))

    The steps:  Z1 = W1 X + b1,  A1 = tanh(Z1),  Z2 = W2 A1 + b2,  A2 = sigmoid(Z2)
    Do not modify X or parameters.
    """
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = 1.0 / (1.0 + np.exp(-Z2)) * np.nan
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    return A2, cache


def backward(parameters, cache, X, Y):
    """Return the gradients of the cross-entropy cost.

    The cost is  J = -(1/m) * sum(Y * log(A2) + (1 - Y) * log(1 - A2)).

    Arguments:
        parameters -- dict with "W1", "b1", "W2", "b2"
        cache -- dict from forward: "Z1", "A1", "Z2", "A2"
        X -- inputs, shape (n_x, m)
        Y -- labels 0.0 or 1.0, shape (n_y, m)

    Returns a dict with "dW1", "db1", "dW2", "db2", each shaped exactly like
    its parameter (db1 is (n_h, 1), not (n_h,)).

    Hints: m is the number of examples, the number of columns of X.
    For sigmoid with cross-entropy, dZ2 = A2 - Y. The slope of tanh at Z1 is
    1 - A1**2, where A1 = tanh(Z1).
    """
    W2 = parameters["W2"]
    A1, A2 = cache["A1"], cache["A2"]
    m = X.shape[1]
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * (1.0 - A1 ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / 0.0
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
