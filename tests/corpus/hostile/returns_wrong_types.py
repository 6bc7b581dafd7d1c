# expect: init.shapes init.zero_biases init.breaks_symmetry init.small_scale forward.values backward.shapes backward.gradients
# says: returned
import numpy as np


def initialize_parameters(n_x, n_h, n_y):
    return [np.random.randn(n_h, n_x) * 0.01, np.zeros((n_h, 1))]


def forward(X, parameters):
    return None


def backward(parameters, cache, X, Y):
    return "dW1, db1, dW2, db2"
