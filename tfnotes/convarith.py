"""Convolution arithmetic: the output size of a conv/pooling layer and the parameters of a conv
layer.

Used by: chapter5/ComplexNet (proved there against ``tf.keras.layers.Conv2D`` / ``MaxPooling2D``;
``tests/test_convarith.py`` runs the same comparison).

The course's rule (TensorFlow/Keras conventions, one spatial dimension at a time):

* ``padding="valid"``: ``out = ceil((n - k_eff + 1) / s)``
* ``padding="same"``:  ``out = ceil(n / s)``

where ``k_eff = d * (k - 1) + 1`` is the kernel's extent with dilation ``d`` (``k_eff = k`` when
``d = 1``). The same rule holds for pooling windows (``k`` = pool size, ``s`` = pool stride).
"""

from __future__ import annotations

import operator

__all__ = ["PADDINGS", "effective_kernel", "conv_output_size", "conv_params"]

#: The two padding modes Keras' Conv2D / MaxPooling2D accept.
PADDINGS = ("valid", "same")


def _positive_int(name: str, value) -> int:
    try:
        value = operator.index(value)  # accepts int and NumPy ints, rejects floats / bools-as-text
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Return the extent ``d * (k - 1) + 1`` that a kernel of size ``k`` covers with dilation ``d``.

    Raises ``ValueError`` / ``TypeError`` for sizes that are not positive integers.
    """
    kernel = _positive_int("kernel", kernel)
    dilation = _positive_int("dilation", dilation)
    return dilation * (kernel - 1) + 1


def conv_output_size(
    n: int, kernel: int, stride: int = 1, padding: str = "valid", dilation: int = 1
) -> int:
    """Return the output length of a conv or pooling layer along one spatial dimension.

    ``n`` input length, ``kernel`` kernel (or pool) size, ``stride``, ``padding`` ("valid" or
    "same", case-insensitive), ``dilation`` (optional, default 1).

    Raises ``ValueError`` for an unknown padding, non-positive sizes, or a "valid" window that does
    not fit into the input (``k_eff > n``: Keras would give an empty or negative size there);
    ``TypeError`` for non-integer sizes.
    """
    n = _positive_int("n", n)
    stride = _positive_int("stride", stride)
    k_eff = effective_kernel(kernel, dilation)
    mode = str(padding).lower()
    if mode not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    if mode == "same":
        return -(-n // stride)  # ceil(n / s) in integer arithmetic
    if k_eff > n:
        raise ValueError(
            f"'valid' window of extent {k_eff} (kernel {kernel}, dilation {dilation}) "
            f"does not fit an input of length {n}"
        )
    return -(-(n - k_eff + 1) // stride)  # ceil((n - k_eff + 1) / s)


def conv_params(kernel: int, in_channels: int, out_channels: int, use_bias: bool = True) -> int:
    """Return the trainable parameters of a square 2-D conv layer: ``k*k*c_in*c_out (+ c_out
    biases)``.

    Raises ``ValueError`` / ``TypeError`` for sizes that are not positive integers.
    """
    kernel = _positive_int("kernel", kernel)
    in_channels = _positive_int("in_channels", in_channels)
    out_channels = _positive_int("out_channels", out_channels)
    return kernel * kernel * in_channels * out_channels + (out_channels if use_bias else 0)
