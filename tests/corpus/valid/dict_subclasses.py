# expect: full
# case: Returns its parameters, cache and gradients in dict subclasses: collections.OrderedDict and a class
# case: of its own. The contract takes any dict; the grader reads a dict subclass through dict's own
# case: methods (tests/test_verdicts.py checks that a subclass whose overrides lie cannot hide its values).

from collections import OrderedDict

import numpy as np


class Grads(dict):
    """A dict subclass of the student's own."""

    def __repr__(self):
        return "Grads(%s)" % ", ".join(self)


def initialize_parameters(n_x, n_h, n_y):
    return OrderedDict([("W1", np.random.randn(n_h, n_x) * 0.01), ("b1", np.zeros((n_h, 1))),
                        ("W2", np.random.randn(n_y, n_h) * 0.01), ("b2", np.zeros((n_y, 1)))])


def forward(X, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, OrderedDict(Z1=Z1, A1=A1, Z2=Z2, A2=A2)


def backward(parameters, cache, X, Y):
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = dZ2 @ cache["A1"].T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - cache["A1"] ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return Grads(dW1=dW1, db1=db1, dW2=dW2, db2=db2)
