"""Accuracy of the default steps against the float64 floors of each scheme.

For each test function of the notes: the relative error at helpers' default step, the best
error any step reaches (a sweep of h over 10^-12 .. 10^-1, i.e. this function's own floor),
the floor measured in the notes, and the specification's target.
"""

from __future__ import annotations

import mpmath
import numpy as np

from helpers import (
    MLP,
    backward_difference,
    central_difference,
    default_step,
    forward_difference,
    gradient,
    hessian,
    relative_error,
    second_derivative,
    xor_data,
)

from .timing import verdict

W = 54  # width of the label column

mpmath.mp.dps = 50

# Targets (specification) and measured floors: the best relative error any step reaches in
# float64, near h ~ sqrt(eps) (forward, backward), eps^(1/3) (central) and eps^(1/4) (second
# derivative), measured against 50-digit mpmath on the functions of SCALAR_CASES.
TARGET = {"forward": 2e-7, "backward": 2e-7, "central": 5e-10, "second": 5e-7, "hessian": 1e-6}
FLOOR_NOTES = {
    "forward": "2.5e-8 - 1.1e-7",
    "backward": "2.5e-8 - 1.1e-7",
    "central": "5.7e-11 - 1.4e-10",
    "second": "4.4e-9 - 3.0e-8",
    "hessian": "-",
}
RULES = {
    "forward": forward_difference,
    "backward": backward_difference,
    "central": central_difference,
    "second": second_derivative,
}


def _sin_sq(x):
    return np.sin(x * x)


def _notes_function(x):
    return np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)


SCALAR_CASES = [
    ("sin(x^2) at 1.3", _sin_sq, 1.3, lambda x: mpmath.sin(x * x)),
    (
        "e^x/sqrt(sin^3 x+cos^3 x) at 1.5",
        _notes_function,
        1.5,
        lambda x: mpmath.exp(x) / mpmath.sqrt(mpmath.sin(x) ** 3 + mpmath.cos(x) ** 3),
    ),
]


def _exact(mp_f, x, order):
    return float(mpmath.diff(mp_f, mpmath.mpf(x), order))


def _best_over_steps(rule, f, x, exact):
    steps = 10.0 ** np.arange(-12.0, -0.95, 0.05)
    errors = []
    for h in steps:
        try:
            errors.append(abs(rule(f, x, h=float(h)) - exact) / abs(exact))
        except ValueError:  # a step too small to move x
            continue
    return min(errors)


# --- vector test functions with exact (closed-form) derivatives ------------------------------


def rosenbrock(x):
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    t = x[1:] - x[:-1] ** 2
    g[:-1] = -400.0 * x[:-1] * t - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * t
    return g


def rosenbrock_hess(x):
    n = x.size
    H = np.zeros((n, n))
    i = np.arange(n - 1)
    H[i, i] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    H[i + 1, i + 1] += 200.0
    H[i, i + 1] = H[i + 1, i] = -400.0 * x[:-1]
    return H


def logsumexp(x):
    top = np.max(x)
    return float(np.log(np.sum(np.exp(x - top))) + top)


def logsumexp_grad(x):
    p = np.exp(x - np.max(x))
    return p / p.sum()


def logsumexp_hess(x):
    p = logsumexp_grad(x)
    return np.diag(p) - np.outer(p, p)


def _spread(errors):
    errors = np.asarray(errors)
    return f"{np.median(errors):.1e} / {errors.max():.1e}"


def run(quick: bool = False) -> dict:
    points = 3 if quick else 20
    rng = np.random.default_rng(0)
    print("3. Accuracy of the default steps (relative errors; measured floors of the best step)")
    print(
        f"   {'quantity':<{W}} {'default h':>10} {'best any h':>11} {'measured floor':>18} "
        f"{'target':>8}  result"
    )
    figures = {}
    footnotes = []

    for name, f, x, mp_f in SCALAR_CASES:
        for scheme, rule in RULES.items():
            exact = _exact(mp_f, x, 2 if scheme == "second" else 1)
            err = abs(rule(f, x) - exact) / abs(exact)
            best = _best_over_steps(rule, f, x, exact)
            label = f"{scheme} derivative, {name}"
            print(
                f"   {label:<{W}} {err:>10.1e} {best:>11.1e} {FLOOR_NOTES[scheme]:>18} "
                f"{TARGET[scheme]:>8.0e}  {verdict(err <= TARGET[scheme])}"
            )
            figures[label] = err
            if err > TARGET[scheme] and scheme in ("forward", "backward"):
                ratio = abs(_exact(mp_f, x, 2) / _exact(mp_f, x, 1))
                h = default_step(x, scheme)
                footnotes.append(
                    f"   * {scheme}, {name}: |f''/f'| = {ratio:.0f}, so the O(h) truncation "
                    f"h |f''| / (2 |f'|)\n     at the default h = {h:.1e} is {h * ratio / 2:.1e}: "
                    f"the scheme's own error, not rounding\n     (a step tuned to this f'' "
                    f"reaches {best:.0e})"
                )

    for line in footnotes:
        print(line)
    print(f"   {'median / max over ' + str(points) + ' random points in [-2, 2]^n':<{W}}")
    vector_cases = [
        ("rosenbrock", rosenbrock, rosenbrock_grad, rosenbrock_hess),
        ("log-sum-exp", logsumexp, logsumexp_grad, logsumexp_hess),
    ]
    for name, f, grad, _ in vector_cases:
        for n in (10, 20, 100):
            for method in ("central", "forward"):
                errors = []
                for _ in range(points):
                    x = rng.uniform(-2.0, 2.0, n)
                    errors.append(relative_error(gradient(f, x, method=method), grad(x)))
                label = f"{method} gradient, {name}, n = {n}"
                figures[label] = max(errors)
                if n <= 20:
                    target = f"{TARGET[method]:>8.0e}"
                    result = verdict(max(errors) <= TARGET[method])
                else:
                    target, result = f"{'-':>8}", "- (informative)"
                print(
                    f"   {label:<{W}} {_spread(errors):>22} {FLOOR_NOTES[method]:>18} "
                    f"{target}  {result}"
                )

    for name, f, _, hess in vector_cases:
        n = 5
        errors = []
        for _ in range(points):
            x = rng.uniform(-2.0, 2.0, n)
            errors.append(relative_error(hessian(f, x), hess(x)))
        label = f"Hessian, {name}, n = {n}"
        print(
            f"   {label:<{W}} {_spread(errors):>22} {FLOOR_NOTES['hessian']:>18} "
            f"{TARGET['hessian']:>8.0e}  {verdict(max(errors) <= TARGET['hessian'])}"
        )
        figures[label] = max(errors)

    X, y = xor_data()
    names = ("W1", "b1", "W2", "b2")
    errors = []
    for seed in range(points):
        net = MLP(seed=seed)
        shapes = [net.params[k].shape for k in names]
        sizes = [int(np.prod(s)) for s in shapes]

        def loss_of(theta, net=net, shapes=shapes, sizes=sizes):
            parts = np.split(theta, np.cumsum(sizes)[:-1])
            for k, part, shape in zip(names, parts, shapes):
                net.params[k][...] = part.reshape(shape)
            return net.loss(X, y)

        theta = np.concatenate([net.params[k].ravel() for k in names])
        backprop = np.concatenate([net.backward(X, y)[k].ravel() for k in names])
        errors.append(relative_error(gradient(loss_of, theta), backprop))
        loss_of(theta)  # leave the network where it was
    label = "central gradient, MLP loss, 17 parameters"
    print(
        f"   {label:<{W}} {_spread(errors):>22} {'<= 9.9e-10':>18} "
        f"{TARGET['central']:>8.0e}  {verdict(max(errors) <= TARGET['central'])}"
    )
    figures[label] = max(errors)
    print(
        "   At n = 100 the gradient entries are small next to |f| (log-sum-exp: entries ~1/n,"
        "\n   |f| ~ log n), so rounding, eps |f| / h per entry, sets the floor; the notes measured"
        "\n   up to 1.5e-9 there. The gradient targets are for n <= 20."
    )
    print()
    return figures
