# ruff: noqa: E501 - student answers, copied as written (a wrong answer may have long lines)
"""One typical wrong answer per exercise, for the sample class ``python -m autograder.demo`` grades.

Product code must not read tests/: each is a copy of the first "wrong" answer of its exercise in
tests/fixtures/answers/<lesson>.py, the lessons' answer fixtures. The demo and
``python -m benchmarks.grading`` build their partly wrong submissions from them;
tests/test_demo_outputs.py checks that each still names an answer cell of its lesson.
"""

# A mistake the visible checks miss and a hidden check catches (a copy of the fixture "a loop
# over a 1-D array only"): the demo's ben makes it, so his page shows a hidden check's summary.
PASSES_VISIBLE: dict[str, dict[str, str]] = {
    "02_chain_rule": {
        "sigmoid_derivative": (
            "def sigmoid_derivative(z):\n"
            "    if np.isscalar(z):\n"
            "        s = 1 / (1 + np.exp(-z))\n"
            "        return s * (1 - s)\n"
            "    out = np.zeros(len(z))\n"
            "    for i in range(len(z)):\n"
            "        s = 1 / (1 + np.exp(-z[i]))\n"
            "        out[i] = s * (1 - s)\n"
            "    return out\n"
        ),
    },
}

MISTAKES: dict[str, dict[str, str]] = {
    "01_derivatives": {
        "forward_difference": "def forward_difference(f, x, h):\n    return (f(x + h) - f(x - h)) / (2 * h)\n",
        "cube_slope": "def cube_slope(h):\n    return 3 * 2**2\n",
        "central_difference": "def central_difference(f, x, h):\n    return (f(x + h) - f(x)) / h\n",
        "second_derivative": "def second_derivative(f, x, h):\n    return (2 * f(x) - f(x + h) - f(x - h)) / h**2\n",
        "make_derivative": "def make_derivative(f, h=1e-3):\n    return lambda x: (f(x + h) - f(x - h)) / (2 * h)\n",
        "numerical_gradient": "def numerical_gradient(f, x, h=1e-5):\n    z = np.array(x, dtype=float)\n    g = np.zeros_like(z)\n    for i in range(z.size):\n        z[i] += h\n        up = f(z)\n        z[i] -= 2 * h\n        g[i] = (up - f(z)) / (2 * h)\n    return g\n",
        "gradients_agree": 'def gradients_agree(f, grad_f, x, tol=1e-7):\n    a = np.asarray(grad_f(np.asarray(x, dtype=float)), dtype=float)\n    n = numerical_gradient(f, x)\n    with np.errstate(all="ignore"):\n        error = np.linalg.norm(a - n) / max(np.linalg.norm(a), np.linalg.norm(n))\n    return bool(error <= tol)\n',
        "square_central_difference": "def square_central_difference(x, h):\n    return ((x + h) ** 2 - x**2) / h\n",
        "quadratic_derivative": "def quadratic_derivative(x):\n    f = lambda t: t**2 + 3 * t + 5\n    return (f(x + 1e-6) - f(x - 1e-6)) / 2e-6\n",
        "quadratic_derivative_sympy": 'x = sympy.Symbol("x")\nquadratic_derivative_sympy = x**2 + 3 * x + 5\n',
        "difference_errors": "def difference_errors(f, df, x, h):\n    d = (f(x + 1e-6) - f(x - 1e-6)) / 2e-6\n    return abs((f(x + h) - f(x)) / h - d), abs((f(x + h) - f(x - h)) / (2 * h) - d)\n",
        "quiz_01": "q1_float64_difference_is_exact = True\nq2_central_closer_at_equal_step = True\nq3_shrinking_h_always_helps = False\nq4_differences_catch_gradient_bugs = True\n",
    },
    "02_chain_rule": {
        "derivative_exp_sin": 'x = sympy.Symbol("x")\nderivative_exp_sin = sympy.cos(3 * x) * sympy.exp(sympy.sin(3 * x))\n',
        "sigmoid_derivative": "def sigmoid_derivative(z):\n    if np.ndim(z) == 0:\n        s = 1 / (1 + np.exp(-z))\n        return s * (1 - s)\n    s = [1 / (1 + np.exp(-t)) for t in np.ravel(z)]\n    return [v * (1 - v) for v in s]\n",
        "derivative_quotient": 'x = sympy.Symbol("x")\nderivative_quotient = sympy.cos(x) / (2 * x)\n',
        "tanh_network_gradients": "def tanh_network_gradients(x, w1, w2, y_true):\n    a = np.tanh(w1 * x)\n    d = 2 * (w2 * a - y_true)\n    return d * a, d * w2 * (1 - a**2) * x\n",
        "fork_gradient": "def fork_gradient(x):\n    u = 3 * x - 1\n    return 3 * 2 * u * np.sin(u)\n",
        "chain_gradients": "def chain_gradients(x, weights):\n    a = [x]\n    for w in weights:\n        a.append(1 / (1 + np.exp(-w * a[-1])))\n    g, up = [0.0] * len(weights), 1.0\n    for k in reversed(range(len(weights))):\n        s = a[k + 1] * (1 - a[k + 1])\n        g[k] = up * s * a[k]\n        up = up * s * weights[k]\n    return g\n",
        "quiz_02": "q1_outer_derivative_alone_suffices = True\nq2_sigmoid_slope_peaks_at_zero = True\nq3_fanout_contributions_add = True\nq4_different_text_different_derivative = False\n",
        "numerical_tanh_gradients": "def numerical_tanh_gradients(x, w1, w2, y_true, h=1e-4):\n    L = lambda a, b: (b * np.tanh(a * x) - y_true) ** 2\n    return ((L(w1 + h, w2) - L(w1 - h, w2)) / (2 * h),\n            (L(w1, w2 + h) - L(w1, w2 - h)) / (2 * h))\n",
    },
    "03_gradients": {
        "gradient_p": "def gradient_p(x, y):\n    return np.array([x**3 - 8 * x * y + 3, 3 * x**2 * y - 4 * y**2])\n",
        "dg_dy": 'x, y = sympy.symbols("x y")\ndg_dy = 2 * x * y + y * sympy.cos(x * y)\n',
        "numerical_jacobian": "def numerical_jacobian(F, x, h=1e-5):\n    x = np.asarray(x, dtype=float)\n    f0 = np.asarray(F(x))\n    cols = []\n    for j in range(x.size):\n        e = np.zeros(x.size)\n        e[j] = h\n        cols.append((np.asarray(F(x + e)) - f0) / h)\n    return np.column_stack(cols)\n",
        "softmax_vjp": "def softmax_vjp(s, g):\n    J = np.diag(s) - np.outer(s, s)\n    return g @ J\n",
        "numerical_hessian": "def numerical_hessian(f, x, h=1e-4):\n    x = np.asarray(x, dtype=float)\n    H = np.zeros((x.size, x.size))\n    for i in range(x.size):\n        e = np.zeros(x.size)\n        e[i] = h\n        H[i, i] = (f(x + e) - 2 * f(x) + f(x - e)) / h**2\n    return H\n",
        "quiz_03": "q1_gradient_is_steepest_descent = True\nq2_layer_jacobian_is_W_transposed = True\nq3_mixed_partials_commute = True\nq4_jacobian_rows_are_inputs = False\n",
        "directional_derivative": "def directional_derivative(grad, u):\n    return float(np.dot(grad, u))\n",
    },
    "04_gradient_descent": {
        "gradient_descent": "def gradient_descent(grad_fn, w0, learning_rate, num_steps):\n    w = np.array(w0, dtype=float)\n    path = [w.copy()]\n    for _ in range(num_steps):\n        w = w + learning_rate * grad_fn(w)\n        path.append(w.copy())\n    return np.array(path)\n",
        "chosen_learning_rate": "chosen_learning_rate = 0.1\n",
        "momentum_descent": "def momentum_descent(grad_fn, w0, learning_rate, momentum, num_steps):\n    w = np.array(w0, dtype=float)\n    path = [w]\n    for _ in range(num_steps):\n        w = w - learning_rate * grad_fn(w)\n        path.append(w)\n    return np.array(path)\n",
        "steps_to_tolerance": "def steps_to_tolerance(grad_fn, w0, learning_rate, tol, max_steps):\n    w = np.array(w0, dtype=float)\n    for k in range(1, max_steps + 2):\n        g = grad_fn(w)\n        if np.linalg.norm(g) <= tol:\n            return k\n        w = w - learning_rate * g\n    return None\n",
        "minibatch_indices": "def minibatch_indices(n, batch_size, rng):\n    order = np.arange(n)\n    return [order[i:i + batch_size] for i in range(0, n, batch_size)]\n",
        "sgd": "def sgd(grad_fn, w0, X, y, lr, batch_size, epochs, seed=0):\n    w = np.array(w0, dtype=float)\n    for _ in range(epochs):\n        rng = np.random.default_rng(seed)\n        for idx in minibatch_indices(len(X), batch_size, rng):\n            w = w - lr * grad_fn(w, X[idx], y[idx])\n    return w\n",
        "adam": "def adam(grad_fn, w0, learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-8,\n         num_steps=100):\n    w = np.array(w0, dtype=float)\n    m, v = np.zeros_like(w), np.zeros_like(w)\n    path = [w]\n    for _ in range(num_steps):\n        g = grad_fn(w)\n        m = beta1 * m + (1 - beta1) * g\n        v = beta2 * v + (1 - beta2) * g**2\n        w = w - learning_rate * m / (np.sqrt(v) + eps)\n        path.append(w)\n    return np.array(path)\n",
        "quiz_04": "q1_minibatch_gradient_unbiased = False\nq2_larger_rate_never_slower = False\nq3_step_bound_from_lambda_max = True\nq4_half_rate_solves_the_bowl = True\nq5_flat_point_is_global_minimum = False\n",
    },
    "05_backprop_xor": {
        "sigmoid": "def sigmoid(z):\n    return 1 / (1 + np.exp(-np.asarray(z, dtype=np.float32)))\n",
        "forward": "def forward(params, X):\n    z1 = X @ params['W1'] + params['b1']\n    a1 = sigmoid(z1)\n    z2 = a1 @ params['W2'] + params['b2']\n    return z2, {'X': X, 'z1': z1, 'a1': a1, 'z2': z2, 'a2': z2}\n",
        "backward": "def backward(params, cache, y):\n    X, a1, a2 = cache['X'], cache['a1'], cache['a2']\n    m = X.shape[0]\n    a2 -= y\n    d2 = 2 * a2 / m * (a2 + y) * (1 - a2 - y)\n    d1 = (d2 @ params['W2'].T) * a1 * (1 - a1)\n    return {'W1': X.T @ d1, 'b1': d1.sum(0, keepdims=True),\n            'W2': a1.T @ d2, 'b2': d2.sum(0, keepdims=True)}\n",
        "train": "def train(params, X, y, learning_rate, epochs):\n    params = {k: v.copy() for k, v in params.items()}\n    losses = []\n    for _ in range(epochs):\n        a2, cache = forward(params, X)\n        losses.append(np.mean((a2 - y) ** 2))\n        grads = backward(params, cache, y)\n        params = {k: params[k] - learning_rate * grads[k] if k[0] == 'W' else params[k] for k in params}\n    return params, losses\n",
        "predict": "def predict(params, X):\n    return np.argmax(forward(params, X)[0], axis=1, keepdims=True)\n",
        "bce_loss": "def bce_loss(a, y):\n    return np.array(-np.mean(y * np.log(a) + (1 - y) * np.log(1 - a)))\n",
        "bce_delta": "def bce_delta(a, y):\n    return a - y\n",
        "quiz_05": "q1_xor_linearly_separable = True\nq2_backward_reuses_forward_values = True\nq3_bce_delta_keeps_sigma_prime = False\nq4_randn_half_is_xavier = False\nq5_zero_init_is_fine = False\n",
    },
    "06_gradient_checker": {
        "direction_check": "def direction_check(f, grad_f, x, rng, h=1e-5):\n    u = rng.standard_normal(x.shape)\n    return relative_error(grad_f(x) @ u, (f(x + h * u) - f(x - h * u)) / (2 * h))\n",
        "locate": "def locate(f, grad_f, x, groups, h=1e-5):\n    numeric = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])\n    analytic = grad_f(x)\n    return {name: relative_error(analytic[idx], numeric[idx]) for name, idx in groups.items()}\n",
        "buggy_parameters": 'buggy_parameters = {"W1", "b1", "W2", "b2"}\n',
        "fixed_backward": 'def fixed_backward(params, X, y):\n    """Gradients of loss(params, X, y) = mean((a2 - y)^2), as a dict shaped like params."""\n    m = X.shape[0]\n    a2, cache = forward(params, X)\n    a1 = cache["a1"]\n    dz2 = 2 * (a2 - y) / m * a2 * (1 - a2)\n    da1 = dz2 @ params["W2"].T\n    dz1 = da1 * a1 * (1 - a1)\n    return {"W1": X.T @ da1, "b1": dz1.sum(axis=0, keepdims=True),\n            "W2": a1.T @ dz2, "b2": dz2.sum(axis=0, keepdims=True)}\n',
        "worst_coordinate": "def worst_coordinate(f, grad_f, x, h=1e-5):\n    x = np.array(x, dtype=float)\n    step = 1e-5\n    numeric = np.array([(f(x + step * e) - f(x - step * e)) / (2 * step) for e in np.eye(x.size)])\n    return int(np.argmax(np.abs(grad_f(x) - numeric)))\n",
        "quiz_06": "q1_absolute_error_is_scale_free = False\nq2_forward_reports_larger_error = True\nq3_one_direction_needs_two_evaluations = True\nq4_kink_failure_proves_a_bug = True\nq5_float32_can_raise_false_alarms = True\nq6_per_parameter_checks_localise_bugs = True\n",
    },
    "07_autodiff": {
        "topological_order": "def topological_order(root):\n    order, seen = [], set()\n    def visit(node):\n        if id(node) not in seen:\n            seen.add(id(node))\n            for inp in node.inputs:\n                visit(inp)\n            order.append(node)\n    visit(root)\n    return order\n",
        "Value": 'class Value:\n    """A number in a computation graph: its data, its gradient and the Values it came from."""\n\n    def __init__(self, data, inputs=(), local_grads=()):\n        self.data = float(data)\n        self.grad = 0.0\n        self.inputs = tuple(inputs)\n        self.local_grads = tuple(local_grads)  # d(self)/d(input), one per input\n\n    def __add__(self, other):\n        other = other if isinstance(other, Value) else Value(other)\n        return Value(self.data + other.data, (self, other), (1.0, 1.0))\n\n    def __mul__(self, other):\n        other = other if isinstance(other, Value) else Value(other)\n        return Value(self.data * other.data, (self, other), (other.data, self.data))\n\n    def __pow__(self, k):\n        return Value(self.data**k, (self,), (k * self.data ** (k - 1),))\n\n    def __neg__(self):\n        return self * -1\n\n    def __sub__(self, other):\n        return self + (-other)\n\n    def __truediv__(self, other):\n        return self * other**-1\n\n    def __radd__(self, other):  # other + self, other a number\n        return self + other\n\n    def __rmul__(self, other):  # other * self\n        return self * other\n\n    def __rsub__(self, other):  # other - self\n        return Value(other) - self\n\n    def __rtruediv__(self, other):  # other / self\n        return Value(other) / self\n\n    def exp(self):\n        e = math.exp(self.data)\n        return Value(e, (self,), (e,))\n\n    def log(self):\n        return Value(math.log(self.data), (self,), (1.0 / self.data,))\n\n    def tanh(self):\n        t = math.tanh(self.data)\n        return Value(t, (self,), (1.0 - t * t,))\n\n    def sigmoid(self):\n        s = 1.0 / (1.0 + math.exp(-self.data))\n        return Value(s, (self,), (s * (1.0 - s),))\n\n    def relu(self):\n        return Value(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))\n\n    def backward(self):\n        """Set every node\'s grad to d(self)/d(node): seed 1, then sweep in reverse order."""\n        self.grad = 1.0\n        for node in reversed(topological_order(self)):\n            for inp, local in zip(node.inputs, node.local_grads):\n                inp.grad = local * node.grad\n\n    def __repr__(self):\n        return f"Value(data={self.data:.4g}, grad={self.grad:.4g})"\n',
        "autodiff_gradient": "def autodiff_gradient(f, point):\n    xs = [Value(p) for p in point]\n    f(*xs).backward()\n    return [x.data for x in xs]\n",
        "zero_grad": "def zero_grad(root):\n    root.grad = 0.0\n",
        "matmul_vjp": "def matmul_vjp(A, B, G):\n    return B @ G.T, A.T @ G\n",
        "unbroadcast": "def unbroadcast(grad, shape):\n    while grad.ndim > len(shape):\n        grad = grad.sum(axis=0)\n    for axis, size in enumerate(shape):\n        if size == 1 and grad.shape[axis] != 1:\n            grad = grad.sum(axis=axis)\n    return grad\n",
        "quiz_07": "q1_reverse_cost_independent_of_inputs = True\nq2_one_dual_pass_gives_full_gradient = True\nq3_fork_keeps_last_contribution = False\nq4_autodiff_has_truncation_error = False\nq5_second_backward_is_harmless = False\n",
    },
    "08_digits": {
        "softmax": "def softmax(Z):\n    Z = np.clip(np.asarray(Z, float), -700, 700)\n    E = np.exp(Z)\n    return E / E.sum(axis=1, keepdims=True)\n",
        "softmax_cross_entropy": "def softmax_cross_entropy(Z, y):\n    m = len(y)\n    rows = np.arange(m)\n    loss = np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[rows, y])\n    dZ = softmax(Z)\n    dZ[rows, y] -= 1\n    return loss, dZ / m\n",
        "dense_backward": "def dense_backward(X, W, dZ):\n    return X.T @ dZ, dZ @ W.T, dZ.sum(axis=0, keepdims=True)\n",
        "train_digits": "def train_digits(X, y, hidden=32, lr=0.1, epochs=30, batch_size=32, seed=0):\n    m, n = X.shape\n    rng = np.random.default_rng()\n    W1 = rng.normal(0, 1 / np.sqrt(n), (n, hidden))\n    W2 = rng.normal(0, 1 / np.sqrt(hidden), (hidden, 10))\n    b1, b2 = np.zeros((1, hidden)), np.zeros((1, 10))\n    losses = []\n    for epoch in range(epochs):\n        batch_losses = []\n        for idx in minibatch_indices(m, batch_size, rng):\n            A1 = np.tanh(X[idx] @ W1 + b1)\n            Z2 = A1 @ W2 + b2\n            loss, dZ2 = softmax_cross_entropy(Z2, y[idx])\n            dZ2 = dZ2\n            dA1, dW2, db2 = dense_backward(A1, W2, dZ2)\n            _, dW1, db1 = dense_backward(X[idx], W1, dA1 * (1 - A1 ** 2))\n            W1, b1 = W1 - lr * dW1, b1 - lr * db1\n            W2, b2 = W2 - lr * dW2, b2 - lr * db2\n            batch_losses.append(loss)\n        losses.append(float(np.mean(batch_losses)))\n    return {'W1': W1, 'b1': b1, 'W2': W2, 'b2': b2}, losses\n",
        "input_gradient": "def input_gradient(params, X, y):\n    A1 = np.tanh(X @ params['W1'] + params['b1'])\n    _, dZ2 = softmax_cross_entropy(A1 @ params['W2'] + params['b2'], y)\n    return dZ2 @ params['W2'].T @ params['W1'].T\n",
        "quiz_08": "q1_softmax_shift_invariant = True\nq2_initial_loss_near_ln10 = True\nq3_accuracy_makes_a_good_loss = True\nq4_db_is_mean_of_dz = False\nq5_tuning_on_test_keeps_it_unbiased = False\n",
    },
}
