"""PUBLIC checks for the random-initialization assignment: quick, readable, incomplete.

These are the checks you can see. The grader runs more (hidden, property-based)
tests, so passing everything here does NOT promise full marks. Use them to catch
the obvious problems in under a second.

Three ways to run them:
    python public_checks.py                    # checks random_init.py in this folder
    python public_checks.py random_init.ipynb  # checks the functions in your notebook
    python -m pytest test_public.py            # the same checks, through pytest
and, inside the notebook:  public_checks.run(initialize_parameters, forward, backward)

Each check is a small function; its docstring is the title you read. A check that
fails says what it expected, what it got, and what to try.
"""

import ast
import json
import os
import sys

import numpy as np

# A tiny network whose outputs were worked out once with the reference solution.
X = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, -1.0]])
PARAMS = {"W1": np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 1.0]]), "b1": np.array([[0.1], [-0.2], [0.3]]),
          "W2": np.array([[1.0, -2.0, 0.5]]), "b2": np.array([[-0.1]])}
A2_EXPECTED = np.array([[0.18282165, 0.80676891, 0.44911658]])
A1_EXPECTED = np.array([[0.53704957, -0.95623746, 0.87405329], [0.86172316, -0.99453608, 0.29131261],
                        [-0.42189901, 0.99263152, -0.79133755]])


class CheckFailed(AssertionError):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def expect_shape(name, value, shape):
    expect(isinstance(value, np.ndarray), "'%s' is a %s, expected a numpy array" % (name, type(value).__name__))
    expect(value.shape == shape, "'%s' has shape %s, expected %s" % (name, value.shape, shape))


def check_init_shapes(initialize_parameters, forward, backward):
    """initialize_parameters returns W1, b1, W2, b2 with the right shapes"""
    p = initialize_parameters(3, 4, 2)
    expect(isinstance(p, dict), "expected a dict, got a %s" % type(p).__name__)
    for name, shape in (("W1", (4, 3)), ("b1", (4, 1)), ("W2", (2, 4)), ("b2", (2, 1))):
        expect(name in p, "the dict has no key '%s'" % name)
        expect_shape(name, p[name], shape)


def check_zero_biases(initialize_parameters, forward, backward):
    """the biases start at zero"""
    p = initialize_parameters(3, 4, 2)
    for name in ("b1", "b2"):
        expect(np.all(p[name] == 0), "'%s' should be all zeros; biases need no randomness" % name)


def check_rows_differ(initialize_parameters, forward, backward):
    """no two hidden units start with the same weights"""
    np.random.seed(1)
    W1 = initialize_parameters(3, 5, 1)["W1"]
    for i in range(5):
        for j in range(i + 1, 5):
            expect(not np.array_equal(W1[i], W1[j]), "rows %d and %d of W1 are equal: those hidden units "
                   "would stay identical for ever. Draw W1 with np.random.randn" % (i, j))


def check_small_scale(initialize_parameters, forward, backward):
    """the weights are small: about 0.01 in size"""
    np.random.seed(2)
    p = initialize_parameters(100, 100, 100)
    for name in ("W1", "W2"):
        std = float(np.std(p[name]))
        expect(0.008 < std < 0.012, "the spread of '%s' is %.4g, expected about 0.01: "
               "use np.random.randn(...) * 0.01" % (name, std))


def check_forward(initialize_parameters, forward, backward):
    """forward gives the right A2 and cache on a small example"""
    A2, cache = forward(X.copy(), {k: v.copy() for k, v in PARAMS.items()})
    expect_shape("A2", A2, (1, 3))
    for key in ("Z1", "A1", "Z2", "A2"):
        expect(key in cache, "the cache has no key '%s'" % key)
    expect(np.allclose(cache["A1"], A1_EXPECTED, atol=1e-7),
           "cache['A1'] is %s, expected %s (A1 = tanh(W1 X + b1))" % (np.round(cache["A1"], 4).tolist(),
                                                                   np.round(A1_EXPECTED, 4).tolist()))
    expect(np.allclose(A2, A2_EXPECTED, atol=1e-7),
           "A2 is %s, expected %s (A2 = sigmoid(W2 A1 + b2))" % (np.round(A2, 4).tolist(),
                                                               np.round(A2_EXPECTED, 4).tolist()))


def check_backward(initialize_parameters, forward, backward):
    """backward's gradients match a numerical estimate on a small example"""
    Y = np.array([[1.0, 0.0, 1.0]])
    _, cache = forward(X, PARAMS)
    grads = backward(PARAMS, cache, X, Y)
    for name in ("W1", "b1", "W2", "b2"):
        expect("d" + name in grads, "the gradients have no key 'd%s'" % name)
        expect_shape("d" + name, grads["d" + name], PARAMS[name].shape)

    def cost(p):
        A2 = forward(X, p)[0]
        return -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))

    for name in ("W2", "b2", "W1", "b1"):
        estimate = np.zeros_like(PARAMS[name])
        for index in np.ndindex(*estimate.shape):
            up = {k: v.copy() for k, v in PARAMS.items()}
            down = {k: v.copy() for k, v in PARAMS.items()}
            up[name][index] += 1e-6
            down[name][index] -= 1e-6
            estimate[index] = (cost(up) - cost(down)) / 2e-6
        gap = np.abs(grads["d" + name] - estimate).max()
        expect(gap < 1e-6, "'d%s' is off by up to %.3g from the numerical estimate %s"
               % (name, gap, np.round(estimate, 5).tolist()))


CHECKS = [check_init_shapes, check_zero_biases, check_rows_differ, check_small_scale, check_forward,
          check_backward]


def run(initialize_parameters, forward, backward):
    """Run every public check and print one line each; returns the number that failed."""
    print("Public checks (a pass here does not promise full marks; the grader runs hidden tests too)")
    failed = 0
    for chk in CHECKS:
        title = chk.__doc__.strip()
        try:
            chk(initialize_parameters, forward, backward)
            print("  ok    " + title)
        except NotImplementedError:
            failed += 1
            print("  todo  %s: a function is still a stub (NotImplementedError)" % title)
        except CheckFailed as exc:
            failed += 1
            print("  FAIL  %s: %s" % (title, exc))
        except Exception as exc:
            failed += 1
            print("  FAIL  %s: your code raised %s: %s" % (title, type(exc).__name__, exc))
    print("%d of %d public checks passed" % (len(CHECKS) - failed, len(CHECKS)))
    return failed


def load(path):
    """The three functions from a .py file or a notebook (only imports and definitions are run)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".ipynb"):
        cells = [c for c in json.loads(text)["cells"] if c.get("cell_type") == "code"]
        kept = []
        for cell in cells:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            src = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.splitlines())
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            kept += [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef))]
        code = compile(ast.Module(body=kept, type_ignores=[]), path, "exec")
    else:
        code = compile(text, path, "exec")
    namespace = {"__name__": "student"}
    exec(code, namespace)
    return [namespace[name] for name in ("initialize_parameters", "forward", "backward")]


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "random_init.py")
    sys.exit(1 if run(*load(target)) else 0)
