"""helpers.MLP training vs the classic plain numpy loop on XOR."""

from __future__ import annotations

import numpy as np

from helpers import MLP, xor_data

from .timing import interleaved_best_of, verdict

TARGET = 1.3  # helpers may cost at most 1.3x the plain loop


def plain_numpy_loop(X, y, seed=0, lr=0.5, epochs=5000):
    """The loop a course would write inline: same initialisation, same loss, same updates."""
    rng = np.random.default_rng(seed)
    W1 = rng.uniform(-1, 1, (2, 4))
    b1 = rng.uniform(-1, 1, (1, 4))
    W2 = rng.uniform(-1, 1, (4, 1))
    b2 = rng.uniform(-1, 1, (1, 1))
    losses = np.empty(epochs)
    for epoch in range(epochs):
        a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
        out = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
        losses[epoch] = np.mean((out - y) ** 2)
        d2 = 2 * (out - y) / y.size * out * (1 - out)
        d1 = (d2 @ W2.T) * a1 * (1 - a1)
        W2 -= lr * (a1.T @ d2)
        b2 -= lr * d2.sum(axis=0, keepdims=True)
        W1 -= lr * (X.T @ d1)
        b1 -= lr * d1.sum(axis=0, keepdims=True)
    return losses


def run(quick: bool = False) -> dict:
    epochs = 500 if quick else 5000
    repeat = 1 if quick else 7
    X, y = xor_data()
    print(f"2. XOR training, 2-4-1 sigmoid MLP, seed 0, lr 0.5, {epochs} epochs")
    same = np.allclose(MLP(seed=0).train(X, y, 0.5, epochs), plain_numpy_loop(X, y, epochs=epochs))
    times = interleaved_best_of(
        {
            "plain": lambda: plain_numpy_loop(X, y, epochs=epochs),
            "helpers": lambda: MLP(seed=0).train(X, y, 0.5, epochs),
        },
        repeat=repeat,
    )
    ratio = times["helpers"] / times["plain"]
    print(f"   plain numpy loop : {times['plain'] * 1e3:8.1f} ms")
    print(f"   helpers MLP.train: {times['helpers'] * 1e3:8.1f} ms")
    print(
        f"   ratio helpers / plain: {ratio:.2f}x "
        f"(target <= {TARGET}x: {verdict(ratio <= TARGET)}); "
        f"same loss history: {'yes' if same else 'NO'}"
    )
    net = MLP(seed=0)
    net.train(X, y, 0.5, 5000)
    solved = bool(np.all(net.predict(X) == y))
    print(f"   XOR solved from seed 0 within 5000 epochs: {'yes' if solved else 'NO'}")
    print()
    return {"ratio": ratio, "same": same, "solved": solved}
