# expect: full
# says: Score: 100/100
# Issue 23 (as root): the top level creates System V shared memory (1 GiB reserved, 64 MiB touched),
# a semaphore set, a SysV message queue and a POSIX message queue, and never removes them. Each
# child has an IPC namespace of its own, so they die with the grading: none is left in the host's
# /proc/sysvipc (tests/test_namespaces.py). The code is graded as the correct code it is.
import ctypes
import os

import numpy as np

KEY = 0x5A17E5            # tests/test_namespaces.py looks for this key
_libc = ctypes.CDLL(None, use_errno=True)
_libc.shmat.restype = ctypes.c_void_p
_libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
_libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
_IPC_CREAT = 0o1000
SEGMENTS = [_libc.shmget(KEY, 1 << 30, _IPC_CREAT | 0o666), _libc.shmget(0, 64 << 20, _IPC_CREAT | 0o600)]
if SEGMENTS[1] >= 0:
    _at = _libc.shmat(SEGMENTS[1], None, 0)
    if _at not in (None, ctypes.c_void_p(-1).value):
        ctypes.memset(_at, 1, 64 << 20)            # touched: real memory, not just a reservation
_libc.semget(KEY, 4, _IPC_CREAT | 0o666)
_libc.msgget(KEY, _IPC_CREAT | 0o666)
try:
    _libc.mq_open(b"/hostile-queue", os.O_CREAT | os.O_RDWR, 0o666, None)
except AttributeError:
    pass


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
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = dZ2 @ cache["A1"].T / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - cache["A1"] ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
