"""A one-hidden-layer network: tanh hidden units, a sigmoid output, cross-entropy cost.

You write three functions:

* ``initialize_parameters`` -- small random weights, zero biases;
* ``forward`` -- the forward pass, keeping what backward needs in a cache;
* ``backward`` -- the gradients of the cost with respect to every parameter.

Shapes: ``n_x`` inputs, ``n_h`` hidden units, ``n_y`` outputs, ``m`` examples.
Every array is a float64 ``numpy.ndarray``; examples are columns.
"""

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

    Why random: hidden units that start with equal incoming weights (rows of
    W1), equal biases (entries of b1) AND equal outgoing weights (columns of
    W2) compute the same value, receive the same gradient and take the same
    step, so by induction they stay copies for ever (all zeros is one such
    start). Equal W1 rows with different W2 columns compute the same value at
    first and separate only through W2. Independent random draws make every
    unit different from the start.

    Why small: a large W1 makes |Z1| large, where tanh is flat; its slope is
    then near zero and the hidden layer hardly learns. (The sigmoid output with
    the cross-entropy cost keeps learning: its error A2 - Y is not multiplied
    by the sigmoid's slope.) Too small is slow too: the gradient reaching W1
    is proportional to W2. 0.01 suits a shallow network with a few inputs.

    Why zero biases are fine: once the weights differ, the units differ already.

    Draw from numpy's global generator (np.random.randn) so that
    np.random.seed(...) makes your run reproducible. Do not seed inside.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
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
    # YOUR CODE HERE
    raise NotImplementedError()
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
    For sigmoid with cross-entropy, dZ2 = A2 - Y: the cost's slope in A2 is
    (A2 - Y) / (A2 (1 - A2)), and the sigmoid's slope A2 (1 - A2) cancels it.
    The slope of tanh at Z1 is 1 - A1**2, where A1 = tanh(Z1).
    Write it for any n_y (use matrix products such as W2.T @ dZ2): the grader
    tries several outputs.
    """
    W2 = parameters["W2"]
    A1, A2 = cache["A1"], cache["A2"]
    # YOUR CODE HERE
    raise NotImplementedError()
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
