"""PUBLIC checks for the random-initialization assignment: quick, readable, incomplete.

These are the checks you can see. The grader runs more (hidden, property-based)
tests, so passing everything here does NOT promise full marks. Use them to catch
the obvious problems in under a second.

Three ways to run them:
    python public_checks.py                    # checks random_init.py in this folder
    python public_checks.py random_init.ipynb  # checks the functions in your notebook
    python -m pytest test_public.py            # the same checks, through pytest
and, inside the notebook:  public_checks.run(initialize_parameters, forward, backward)

They read your notebook by the grader's own rule and use the grader's thresholds
(both in grader_rules.py, next to this file): the same code runs, the same numbers
pass. Each check is a small function; its docstring is the title you read. A check
that fails says what it expected and what it got. When your code raises, you read
your error; when a check itself breaks, it says so instead of blaming your code.
"""

import json
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grader_rules as rules  # noqa: E402  (shipped next to this file)

# --- a small network, made once with the grader's reference code (a test keeps it in step) --------
# n_x=2 inputs, n_h=3 hidden units, n_y=2 outputs, m=4 examples: every size differs, and n_y >= 2.
# BEGIN FIXTURE
X_FIXTURE = np.array([
    [-0.31630015636915454, 0.4116305363741328, 1.0425133694426776, -0.12853466294403426],
    [1.3664634705496859, -0.6651946734866135, 0.3515100700930197, 0.9034701816518086]])
Y_FIXTURE = np.array([
    [1.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 1.0, 1.0]])
PARAMS = {
    "W1": np.array([
        [0.1257302210933933, -0.1321048632913019],
        [0.6404226504432821, 0.10490011715303971],
        [-0.535669373161111, 0.36159505490948474]]),
    "b1": np.array([
        [0.6520000225650686],
        [0.4735404815646211],
        [-0.3518676179034963]]),
    "W2": np.array([
        [-1.2654214710460525, -0.6232744625373522, 0.0413259793472436],
        [-2.3250307746388343, -0.21879166393254573, -1.2459109472530652]]),
    "b2": np.array([
        [-0.3661336773517258],
        [-0.27212949142865495]]),}
CACHE = {
    "Z1": np.array([
        [0.4317150640033758, 0.7916298723152317, 0.7366392692427606, 0.5164865261400705],
        [0.4143168752330738, 0.6673790014944093, 1.178063104278888, 0.48599809994772153],
        [0.3116711222547488, -0.8128965937818887, -0.7832057979284108, 0.043674814368677095]]),
    "A1": np.array([
        [0.4067536157045827, 0.6593313640267112, 0.6271103926894824, 0.4749837558116536],
        [0.39213193213793873, 0.5832531503727612, 0.8268398819828131, 0.4510344078343277],
        [0.30195661549984304, -0.6711850647124372, -0.6545429020499913, 0.04364706579189867]]),
    "Z2": np.array([
        [-1.1127756024810167, -1.5917299158694918, -1.7020904424764067, -1.2465027907431971],
        [-1.6798504163977104, -1.0964693109813317, -1.09558396000148, -1.5295442668107913]]),
    "A2": np.array([
        [0.2473537926618148, 0.16914064907711646, 0.15419243845003372, 0.22330610952679275],
        [0.15711527723590446, 0.2504020235442893, 0.25056824139615275, 0.1780603747757542]]),}
GRADS = {
    "dW1": np.array([
        [0.119096804973573, 0.6095685974871756],
        [-0.035413724175370476, 0.1524541302089233],
        [0.10596073196644795, 0.23760150358320686]]),
    "db1": np.array([
        [0.5599417143287155],
        [0.07900650866865533],
        [0.2987231073614538]]),
    "dW2": np.array([
        [0.0020351560436893124, 0.007931600376487324, -0.10799252214699351],
        [-0.1578448249883735, -0.19568135822822796, 0.0835089710715664]]),
    "db2": np.array([
        [-0.051501752640348286],
        [-0.2909635208325767]]),}
# END FIXTURE


class CheckFailed(AssertionError):
    """Your function did not do what the check expected; the message says what and how."""


class StudentRaised(Exception):
    """Your function raised an exception while a check called it."""


class Missing(Exception):
    """A function the check needs is not defined in your file; the message says why."""


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def call(fn, *args):
    """Call one of your functions on copies of the inputs; your exception becomes StudentRaised."""
    copies = [{k: v.copy() for k, v in a.items()} if isinstance(a, dict) else
              (a.copy() if isinstance(a, np.ndarray) else a) for a in args]
    try:
        return fn(*copies), copies
    except (NotImplementedError, Missing):
        raise
    except Exception as exc:
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = " (line %d, in %s)" % (tb.tb_lineno, tb.tb_frame.f_code.co_name) if tb is not None else ""
        raise StudentRaised("%s raised %s: %s%s" % (fn.__name__, type(exc).__name__, exc, where)) from None


def expect_array(name, value, shape, dtype=True):
    expect(isinstance(value, np.ndarray), "'%s' is a %s, expected a numpy array of shape %s"
           % (name, type(value).__name__, shape))
    expect(value.shape == shape, "'%s' has shape %s, expected %s" % (name, value.shape, shape))
    if dtype:
        expect(value.dtype == np.float64, "'%s' has dtype %s, expected float64" % (name, value.dtype))


def expect_keys(what, value, keys):
    expect(isinstance(value, dict), "%s is a %s, expected a dict" % (what, type(value).__name__))
    for key in keys:
        expect(key in value, "%s has no key '%s' (it has %s)" % (what, key, ", ".join(map(str, value)) or "none"))


def expect_close(name, got, want, rtol, atol):
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        gap = abs(got[i] - want[i])
        rel = "relative error %.2g" % (gap / abs(want[i])) if want[i] != 0 else "where 0 was expected"
        raise CheckFailed("%s%s is %.6g, expected %.6g (%s; the tolerance is %g relative plus %g absolute)"
                          % (name, list(i), got[i], want[i], rel, rtol, atol))


CHECKS = []


def public(item):
    """Register a check under the rubric item whose hidden tests it previews."""
    def register(fn):
        fn.item = item
        CHECKS.append(fn)
        return fn
    return register


def _init(initialize_parameters, n_x, n_h, n_y, seed=None):
    if seed is not None:
        np.random.seed(seed)
    p = call(initialize_parameters, n_x, n_h, n_y)[0]
    expect_keys("initialize_parameters(%d, %d, %d)" % (n_x, n_h, n_y), p, ("W1", "b1", "W2", "b2"))
    return p


@public("init.shapes")
def check_init_shapes(initialize_parameters, forward, backward):
    """initialize_parameters returns W1, b1, W2, b2 with the right shapes, as float64"""
    for n_x, n_h, n_y in ((3, 4, 2), (2, 3, 1)):
        p = _init(initialize_parameters, n_x, n_h, n_y)
        for name, shape in (("W1", (n_h, n_x)), ("b1", (n_h, 1)), ("W2", (n_y, n_h)), ("b2", (n_y, 1))):
            expect_array(name, p[name], shape)


@public("init.zero_biases")
def check_zero_biases(initialize_parameters, forward, backward):
    """the biases start at exactly zero"""
    p = _init(initialize_parameters, 3, 4, 2)
    for name in ("b1", "b2"):
        expect(np.all(np.asarray(p[name]) == 0), "'%s' should be all zeros; biases need no randomness" % name)


@public("init.breaks_symmetry")
def check_rows_differ(initialize_parameters, forward, backward):
    """no two hidden units start with the same weights"""
    p = _init(initialize_parameters, 3, 5, 2, seed=1)
    expect_array("W1", p["W1"], (5, 3), dtype=False)
    W1 = p["W1"] + 0.0                                   # -0.0 and 0.0 are the same weight
    order = np.lexsort(W1.T[::-1])
    equal = np.all(W1[order][1:] == W1[order][:-1], axis=1)
    if not equal.any():
        return _no_copied_lines(W1, p["W2"])
    k = int(np.argmax(equal))
    i, j = sorted((int(order[k]), int(order[k + 1])))
    b1, W2 = p["b1"], p["W2"]
    copies = (isinstance(b1, np.ndarray) and b1.size == 5 and b1.ravel()[i] == b1.ravel()[j]
              and isinstance(W2, np.ndarray) and W2.shape == (2, 5) and np.array_equal(W2[:, i], W2[:, j]))
    if copies:
        raise CheckFailed("rows %d and %d of W1, entries %d and %d of b1 and columns %d and %d of W2 are equal: "
                          "hidden units %d and %d compute the same value and get the same gradient, so they stay "
                          "copies for ever. Draw W1 with np.random.randn" % (i, j, i, j, i, j, i, j))
    raise CheckFailed("rows %d and %d of W1 are equal: hidden units %d and %d weigh the inputs alike (they can "
                      "separate only through what differs in b1 or W2). The rows of W1 must be independent "
                      "random draws: np.random.randn(n_h, n_x) * 0.01" % (i, j, i, j))


def _no_copied_lines(W1, W2):
    """W2's rows and the columns of W1 and W2 are independent draws too: no two are equal."""
    W2 = np.asarray(W2, dtype=float) + 0.0
    for name, w, lines in (("W2", W2, "rows"), ("W1", W1, "columns"), ("W2", W2, "columns")):
        if w.ndim != 2 or min(w.shape) < 2:
            continue
        lined = w if lines == "rows" else w.T
        for i in range(len(lined)):
            for j in range(i + 1, len(lined)):
                expect(not np.array_equal(lined[i], lined[j]),
                       "%s %d and %d of %s are equal: they are copies, not independent random draws; draw every "
                       "entry at random: np.random.randn(...) * 0.01" % (lines, i, j, name))


@public("init.breaks_symmetry")
def check_seeding(initialize_parameters, forward, backward):
    """np.random.seed makes W1 and W2 reproducible, and each call draws new ones"""
    first, same, other = (_init(initialize_parameters, 3, 4, 2, seed=s) for s in (3, 3, 4))
    again = _init(initialize_parameters, 3, 4, 2)
    for name in ("W1", "W2"):
        a = np.asarray(first[name])
        expect(np.array_equal(a, same[name], equal_nan=True),
               "np.random.seed(3) twice gave two different %s: draw from numpy's global state with "
               "np.random.randn, not a generator of your own (np.random.default_rng, RandomState)" % name)
        expect(not np.array_equal(a, other[name]),
               "%s is the same after np.random.seed(3) and np.random.seed(4): it does not come from the "
               "caller's random state (a seed set inside the function, or not a random draw)" % name)
        expect(not np.array_equal(np.asarray(again[name]), np.asarray(_init(initialize_parameters, 3, 4, 2)[name])),
               "two calls in a row gave the same %s: each call must draw new numbers (a seed set, or a saved "
               "random state restored, inside the function repeats them)" % name)
    W2 = np.asarray(first["W2"])
    expect(not (W2.size >= 2 and np.all(W2 == W2.ravel()[0])),
           "every entry of W2 is %r: a W2 whose entries are all equal is one number, not a random draw; draw it "
           "with np.random.randn(n_y, n_h) * 0.01" % (W2.ravel()[0] if W2.size else None,))


@public("init.small_scale")
def check_small_scale(initialize_parameters, forward, backward):
    """the weights look like np.random.randn(...) * 0.01: finite, spread 0.01, centred, small"""
    p = _init(initialize_parameters, 100, 100, 100, seed=2)
    small = _init(initialize_parameters, 3, 4, 2, seed=2)
    for name in ("W1", "W2"):
        expect_array(name, p[name], (100, 100), dtype=False)
        expect_array(name, small[name], (4, 3) if name == "W1" else (2, 4), dtype=False)
        w = p[name].astype(float)
        expect(w.size >= 1000, "'%s' has only %d entries for sizes (100, 100, 100)" % (name, w.size))
        bad = ~np.isfinite(w)
        expect(not bad.any(), "'%s' contains %s" % (name, "nan" if np.isnan(w).any() else "inf"))
        tiny = np.abs(small[name].astype(float))
        expect(np.all(tiny < rules.BOUND), "'%s' for sizes (3, 4, 2) has an entry %.4g; np.random.randn(...) "
               "* 0.01 keeps every entry below %g in size" % (name, tiny.max(), rules.BOUND))
        expect(not np.all(w == w.flat[0]), "every entry of '%s' is %.4g: a constant has no spread at all, where "
               "np.random.randn(...) * 0.01 has standard deviation 0.01" % (name, w.flat[0]))
        lines = np.unique(np.unique(w + 0.0, axis=0), axis=1)     # repeated rows/columns: init.breaks_symmetry's
        if lines.size < rules.MIN_DISTINCT:
            continue                                              # too few distinct draws to judge, as in the grader
        distinct = np.unique(lines).size
        expect(distinct >= rules.TILED_SHARE * lines.size, "'%s' holds only %d distinct values among its %d entries: "
               "most weights are copies of others (a block repeated), where independent draws never repeat a "
               "value; draw every entry with np.random.randn(...) * 0.01" % (name, distinct, w.size))
        judged = lines.ravel()                     # the grader, too, judges the spread of distinct draws only
        std, mean, band = float(judged.std()), float(judged.mean()), rules.spread_band(judged.size)
        expect(abs(std - rules.SCALE) <= band, "the spread (standard deviation) of '%s' is %.4g, expected "
               "0.01 (+/- %.1g): use np.random.randn(...) * 0.01" % (name, std, band))
        expect(abs(mean) <= rules.mean_band(judged.size), "the mean of '%s' is %.4g; draws from N(0, 0.01^2) "
               "are centred at 0 (within %.2g here)" % (name, mean, rules.mean_band(judged.size)))


@public("forward.values")
def check_forward(initialize_parameters, forward, backward):
    """forward gives the right A2 and cache, and leaves X and the parameters unchanged"""
    value, (X, p) = call(forward, X_FIXTURE, PARAMS)
    expect(isinstance(value, (tuple, list)) and len(value) == 2, "forward should return the pair (A2, cache)")
    A2, cache = value
    expect_array("A2", A2, CACHE["A2"].shape, dtype=False)
    expect_keys("the cache", cache, ("Z1", "A1", "Z2", "A2"))
    for key in ("Z1", "A1", "Z2", "A2"):
        expect_array("cache['%s']" % key, np.asarray(cache[key]), CACHE[key].shape, dtype=False)
        expect_close("cache['%s']" % key, np.asarray(cache[key], dtype=float), CACHE[key],
                     rules.FORWARD_RTOL, rules.FORWARD_ATOL)
    expect_close("A2", np.asarray(A2, dtype=float), CACHE["A2"], rules.FORWARD_RTOL, rules.FORWARD_ATOL)
    expect(np.array_equal(X, X_FIXTURE), "forward changed its input X in place; compute new arrays instead")
    for name in PARAMS:
        expect(np.array_equal(p[name], PARAMS[name]), "forward changed parameters['%s'] in place" % name)


def _grads(backward):
    """backward on the grader's own cache (never your forward's), on copies of every input."""
    grads = call(backward, PARAMS, CACHE, X_FIXTURE, Y_FIXTURE)[0]
    expect_keys("the dict backward returned", grads, ("dW1", "db1", "dW2", "db2"))
    return grads


@public("backward.shapes")
def check_backward_shapes(initialize_parameters, forward, backward):
    """backward returns dW1, db1, dW2, db2 shaped like their parameters"""
    grads = _grads(backward)
    for name in PARAMS:
        expect_array("d" + name, grads["d" + name], PARAMS[name].shape, dtype=False)


@public("backward.gradients")
def check_backward(initialize_parameters, forward, backward):
    """backward's gradients equal the derivatives of the cost on a small example"""
    grads = _grads(backward)
    for name in ("dW2", "db2", "dW1", "db1"):
        got = np.asarray(grads[name], dtype=float)
        expect(got.size == GRADS[name].size, "'%s' has %d entries, expected %d" % (name, got.size, GRADS[name].size))
        expect_close(name, got.reshape(GRADS[name].shape), GRADS[name], rules.GRADIENT_RTOL, rules.GRADIENT_ATOL)


def _raised_in(exc):
    """The name of the assignment's function that raised ``exc`` (the innermost one on its traceback)."""
    name, tb = "one of your functions", exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name in ("initialize_parameters", "forward", "backward"):
            name = tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    return name


def outcome(chk, functions):
    """('ok' | 'todo' | 'FAIL' | 'BUG', message) for one check; nothing escapes."""
    state = np.random.get_state()            # your notebook's random state is left as it was
    try:
        chk(*functions)
        return "ok", ""
    except NotImplementedError as exc:
        return "todo", "%s is still a stub: it raises NotImplementedError" % _raised_in(exc)
    except (CheckFailed, StudentRaised, Missing) as exc:
        return "FAIL", str(exc)
    except Exception as exc:                 # the check's own mistake, never blamed on your code
        return "BUG", ("this check itself failed (%s: %s); that is a bug in public_checks.py, not a verdict "
                       "on your code" % (type(exc).__name__, exc))
    finally:
        np.random.set_state(state)


def run(initialize_parameters, forward, backward):
    """Run every public check and print one line each; returns the number that did not pass."""
    print("Public checks (a pass here does not promise full marks; the grader runs hidden tests too)")
    failed = 0
    for chk in CHECKS:
        status, message = outcome(chk, (initialize_parameters, forward, backward))
        title = chk.__doc__.strip()
        failed += status != "ok"
        print("  %-5s %s%s" % (status, title, ": " + message if message else ""))
    print("%d of %d public checks passed" % (len(CHECKS) - failed, len(CHECKS)))
    return failed


# --- reading your code, by the grader's rule ----------------------------------------------------
# Modules the notebook's experiments import but the three functions never need: they are bound to a
# stand-in that imports the real module on first use, so the checks start in well under a second.
LAZY = {"matplotlib", "lesson_tools", "IPython", "pandas", "scipy", "seaborn", "sklearn"}


class LoadError(Exception):
    """Your file cannot be read or defines no checkable functions; the message says why."""


class _Lazy(types.ModuleType):
    def __getattr__(self, attr):
        import importlib
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)
        return getattr(real, attr)


def _lazy_import(statement, namespace):
    import ast
    node = ast.parse(statement).body[0]
    if not isinstance(node, ast.Import) or any(a.name.split(".")[0] not in LAZY for a in node.names):
        return False
    for alias in node.names:
        name = alias.name if alias.asname else alias.name.split(".")[0]
        namespace[alias.asname or name] = _Lazy(name)
    return True


def load(path):
    """The three functions from a .py file or a notebook; raises LoadError with the grader's words."""
    name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError("cannot read %s: %s" % (name, exc)) from None
    namespace, notes = {"__name__": "student"}, []
    if path.endswith(".ipynb"):
        try:
            sources = rules.code_cell_sources(json.loads(text))
        except ValueError:
            sources = None
        if sources is None:
            raise LoadError("%s is not a readable notebook; open it in Jupyter, save it and try again" % name)
        statements, notes = rules.kept_statements(sources)
        for statement in statements:                 # each on its own, as the grader runs them
            try:
                if not _lazy_import(statement, namespace):
                    exec(compile(statement, name, "exec"), namespace)
            except Exception as exc:
                if not isinstance(exc, ImportError):
                    notes.append("while loading, your code raised %s: %s" % (type(exc).__name__, exc))
    else:
        try:
            code = compile(text, name, "exec")
        except SyntaxError as exc:
            raise LoadError("%s has a syntax error (%s, line %s)" % (name, exc.msg, exc.lineno)) from None
        try:
            exec(code, namespace)
        except Exception as exc:
            raise LoadError("while loading %s, your code raised %s: %s" % (name, type(exc).__name__, exc)) from None
    for note in notes:
        print("Note: " + note)
    return [namespace[f] if callable(namespace.get(f)) else _missing(f, name, notes) for f in rules.FUNCTIONS]


def _missing(function, name, notes):
    """A stand-in for a function the file does not define: every check that calls it fails, saying why."""
    why = "%s is not defined in %s%s" % (function, name, " (%s)" % notes[0] if notes else "")

    def absent(*args):
        raise Missing(why)
    absent.__name__ = function
    return absent


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    target = argv[1] if len(argv) > 1 else os.path.join(here, "random_init.py")
    try:
        functions = load(target)
    except LoadError as exc:
        print("Public checks: " + str(exc))
        return 1
    return 1 if run(*functions) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
