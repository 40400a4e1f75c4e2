"""Interactive explorers for the lessons, with a static picture for when widgets cannot render.

Each explorer is a function returning an :class:`Explorer`. Shown as the last expression of a
cell it is a live widget (core ipywidgets: sliders, checkboxes, a dropdown, a button and an
``Output`` holding an inline matplotlib picture that is redrawn on every change). Its display
bundle also carries a small grid of the same plot at a few settings, with its alternative text
(as ``text/html`` and ``image/png``). nbconvert (exported HTML, nbgrader feedback) skips the
widget view when no widget state was saved and shows that picture instead; so does any front
end without a widget manager. The pictures for the calls the lessons make are drawn once and
shipped with the package (:mod:`.shipped`). Every number comes from the ``helpers`` core
(finite differences, gradient descent, the MLP), never from a student's code.
Works with ipywidgets 7.7 (Google Colab) and 8.x.

The calls a lesson makes
------------------------
Every explorer also takes ``static=True``, which returns the fallback grid itself as a
:class:`matplotlib.figure.Figure` instead of the widget.

Lesson 01 (:mod:`helpers.explore.derivatives`)
    ``secant_to_tangent(f=None, x0=1.0, *, df=None, label=None)``: the secant through x0 and
    x0 + h turning into the tangent (slider: h). ``step_size_error(f=None, x0=1.0, *, df=None,
    label=None)``: the V of forward and central differences' error against h, float64 and
    float32. ``f`` defaults to sin(x²); without ``df`` the reference slope is a complex step.
Lesson 02 (:mod:`helpers.explore.chain_rule`)
    ``chain_rule_graph(x=2.0, w1=0.5, w2=0.8, y_true=1.0)``: the graph x → w₁x → σ → w₂a₁ →
    (ŷ − y)² with forward values, local derivatives and backward products (sliders: x, w1, w2).
Lesson 03 (:mod:`helpers.explore.gradients`)
    ``gradient_field(point=(1.0, -0.5))``: the gradient on a contour plot and the directional
    derivative in every direction (surface, point and angle).
Lesson 04 (:mod:`helpers.explore.gradient_descent`)
    ``learning_rate(lr=0.1, start=(-1.5, 1.5))``: descent on a round or narrow quadratic, its
    path and loss per step, and whether lr is below 2/λ_max (loss, lr, steps, start).
    ``minibatch_sgd(batch_size=10, lr=0.05)``: mini-batch SGD on a line fit, its path and
    excess loss against epochs (batch size, lr, epochs, a decaying lr).
Lesson 05 (:mod:`helpers.explore.backprop_xor`)
    ``xor_training(seed=0, hidden=4, lr=0.5)``: a 2-hidden-1 sigmoid MLP learning XOR, its
    decision boundary and loss curve (seed, hidden units, lr, epochs, a "train 100 more" button).
Lesson 07 (:mod:`helpers.explore.autodiff`)
    ``backward_pass(x=0.5, y=-1.5, step=0)``: the graph of tanh(x·y + y) with data and grad on
    every node, the backward sweep one node at a time (sliders: step, x, y).
Lesson 08 (:mod:`helpers.explore.digits`)
    ``digit_probabilities(index=0, epochs=30)``: a test digit of :func:`helpers.digits.split`,
    the trained 64-32-10 network's ten probabilities and its 32 hidden activations (sliders:
    test image, epochs trained, 0 being the untrained network).

The returned :class:`Explorer` exposes ``controls`` (``{parameter: widget}``; setting a
widget's ``value`` redraws), ``widget``, ``output``, ``last_png``, ``last_text`` and
``redraws``, which is how the tests drive an explorer without a browser. The shell they share
is :mod:`helpers.explore.shell`.
"""

from .autodiff import backward_pass
from .backprop_xor import xor_training
from .chain_rule import chain_rule_graph
from .derivatives import secant_to_tangent, step_size_error
from .digits import digit_probabilities
from .gradient_descent import learning_rate, minibatch_sgd
from .gradients import gradient_field
from .shell import Explorer

__all__ = [
    "Explorer",
    "backward_pass",
    "chain_rule_graph",
    "digit_probabilities",
    "gradient_field",
    "learning_rate",
    "minibatch_sgd",
    "secant_to_tangent",
    "step_size_error",
    "xor_training",
]
