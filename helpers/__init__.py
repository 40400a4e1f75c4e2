"""Calculus for Deep Learning: the numeric core every lesson imports.

Finite differences (:mod:`helpers.differentiate`), gradient checking
(:mod:`helpers.gradcheck`), gradient descent (:mod:`helpers.descent`), a small sigmoid MLP
(:mod:`helpers.mlp`), a scalar reverse-mode autodiff engine and dual numbers
(:mod:`helpers.autodiff`, Lesson 07's reference), handwritten digits and a softmax network
with its gradients (:mod:`helpers.digits`, Lesson 08's reference), the checks behind the
lessons' visible tests (:mod:`helpers.checks`, :mod:`helpers.exercises`) and the interactive
explorers (:mod:`helpers.explore`, imported on demand because it pulls in ipywidgets); figures
are shown with their alternative text by :func:`helpers.show` (:mod:`helpers.figures`).
"""

from . import _version
from .checks import CheckFailure, progress, setup
from .descent import DescentResult, gradient_descent
from .differentiate import (
    backward_difference,
    central_difference,
    default_step,
    forward_difference,
    gradient,
    hessian,
    jacobian,
    second_derivative,
)
from .figures import show
from .gradcheck import GradientCheckResult, gradient_check, relative_error
from .mlp import MLP, ManyRuns, sigmoid, train_many, xor_data

__version__ = _version.version  # pyproject.toml's, through the installed metadata

__all__ = [
    "MLP",
    "CheckFailure",
    "DescentResult",
    "GradientCheckResult",
    "ManyRuns",
    "backward_difference",
    "central_difference",
    "default_step",
    "forward_difference",
    "gradient",
    "gradient_check",
    "gradient_descent",
    "hessian",
    "jacobian",
    "progress",
    "relative_error",
    "second_derivative",
    "setup",
    "show",
    "sigmoid",
    "train_many",
    "xor_data",
]
