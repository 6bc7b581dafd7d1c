# expect: forward.values
# says: forward returned something the grader could not read
# Class 2: forward answers its own request with a well-formed value but an "args_after" that says
# {"t": "same"} (this argument is exactly as sent) for a third argument forward was never given.
import json
import struct
import sys


def _child():
    """The child's own module globals and the request it is answering, found through the call stack."""
    f = sys._getframe(1)
    while f is not None and "PROTOCOL_OUT" not in f.f_globals:
        f = f.f_back
    g = f.f_globals
    while f is not None and "header" not in f.f_locals:
        f = f.f_back
    return g, (f.f_locals["header"] if f is not None else {})


def _frame(head, blobs=b""):
    head = json.dumps(head).encode()
    body = struct.pack(">I", len(head)) + head + blobs
    return struct.pack(">Q", len(body)) + body
import numpy as np


def initialize_parameters(n_x, n_h, n_y):
    return {"W1": np.random.randn(n_h, n_x) * 0.01, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.01, "b2": np.zeros((n_y, 1))}


def forward(X, parameters):
    g, request = _child()
    blobs = []
    value = g["describe"]((X, {"Z1": X}), blobs)
    bad = {"ok": True, "value": value, "args_after": [{"t": "same"}] * 3, "output": ""}
    head = {"id": request.get("id"), "ok": True, "replies": [bad] * len(request["calls"]),
            "_blobs": [len(b) for b in blobs]}
    g["PROTOCOL_OUT"].write(_frame(head, b"".join(blobs)))
    W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backward(parameters, cache, X, Y):
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = dZ2 @ cache["A1"].T / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - cache["A1"] ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
