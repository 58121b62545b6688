"""tfnotes.convarith: the output-size formula agrees with real Keras layers, and bad input is
refused."""

import itertools

import pytest

from tfnotes.convarith import PADDINGS, conv_output_size, conv_params, effective_kernel


# ------------------------------------------------------------------ the formula on its own (no
# TensorFlow)


@pytest.mark.parametrize(
    "n, k, s, padding, d, expected",
    [
        (32, 5, 1, "valid", 1, 28),  # LeNet's first conv on CIFAR-10
        (28, 3, 2, "valid", 1, 13),  # ceil((28 - 3 + 1) / 2) = 13
        (28, 3, 2, "same", 1, 14),  # ceil(28 / 2)
        (7, 2, 2, "same", 1, 4),  # VGG's pool on a 7x7 map: ceil(7 / 2)
        (7, 2, 2, "valid", 1, 3),
        (26, 3, 2, "valid", 1, 12),  # AlexNet's 3x3/2 pool
        (28, 3, 1, "valid", 2, 24),  # dilation 2: k_eff = 5
        (28, 3, 1, "SAME", 3, 28),  # padding is case-insensitive; same ignores the kernel
        (5, 5, 1, "valid", 1, 1),  # window exactly fits
    ],
)
def test_known_sizes(n, k, s, padding, d, expected):
    assert conv_output_size(n, k, s, padding, dilation=d) == expected


def test_effective_kernel():
    assert effective_kernel(3) == 3
    assert effective_kernel(3, 2) == 5
    assert effective_kernel(5, 3) == 13
    assert effective_kernel(1, 4) == 1


def test_conv_params():
    assert conv_params(5, 1, 6) == 156  # LeNet C1: 5*5*1*6 + 6
    assert conv_params(3, 64, 128) == 73_856
    assert conv_params(3, 64, 64, use_bias=False) == 36_864


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(n=4, kernel=5), ValueError, "does not fit"),
        (dict(n=6, kernel=3, dilation=3), ValueError, "extent 7"),
        (dict(n=8, kernel=3, padding="full"), ValueError, "padding must be one of"),
        (dict(n=0, kernel=3), ValueError, "n must be >= 1"),
        (dict(n=8, kernel=3, stride=0), ValueError, "stride must be >= 1"),
        (dict(n=8, kernel=0), ValueError, "kernel must be >= 1"),
        (dict(n=8, kernel=3, dilation=0), ValueError, "dilation must be >= 1"),
        (dict(n=8.0, kernel=3), TypeError, "n must be an integer"),
        (dict(n=8, kernel="3"), TypeError, "kernel must be an integer"),
    ],
)
def test_refuses_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        conv_output_size(**kwargs)


def test_conv_params_refuses_bad_input():
    with pytest.raises(ValueError, match="out_channels"):
        conv_params(3, 3, 0)
    with pytest.raises(TypeError, match="in_channels"):
        conv_params(3, 1.5, 8)


def test_numpy_integers_accepted():
    np = pytest.importorskip("numpy")
    assert conv_output_size(np.int64(28), np.int32(3), np.int64(2), "same") == 14


# ------------------------------------------------------------------ the same comparison as
# chapter5/ComplexNet


@pytest.fixture(scope="module")
def keras_layers():
    tf = pytest.importorskip("tensorflow")
    return tf, tf.keras.layers


def _keras_hw(tf, layer, h, w):
    try:
        y = layer(tf.zeros((1, h, w, 1)))
    except ValueError:
        return None
    return tuple(int(d) for d in y.shape[1:3])


def _formula_hw(h, w, k, s, padding, d=1):
    try:
        return conv_output_size(h, k, s, padding, d), conv_output_size(w, k, s, padding, d)
    except ValueError:
        return None


SIZES = range(1, 19)


def test_conv2d_matches_keras(keras_layers):
    tf, layers = keras_layers
    combos = list(itertools.product(SIZES, [1, 2, 3, 5], [1, 2, 3], PADDINGS))
    refused = 0
    for n, k, s, p in combos:
        real = _keras_hw(tf, layers.Conv2D(1, k, strides=s, padding=p), n, n + 3)
        assert real == _formula_hw(n, n + 3, k, s, p), (n, k, s, p)
        refused += real is None
    assert len(combos) == 432 and refused > 0  # the grid includes windows that do not fit


def test_maxpooling2d_matches_keras(keras_layers):
    tf, layers = keras_layers
    # only windows that fit: MaxPooling2D does not validate oversized windows (it can abort the
    # process on CPU)
    combos = [c for c in itertools.product(SIZES, [2, 3], [1, 2, 3], PADDINGS) if c[1] <= c[0]]
    for n, k, s, p in combos:
        real = _keras_hw(tf, layers.MaxPooling2D(k, strides=s, padding=p), n, n + 3)
        assert real == _formula_hw(n, n + 3, k, s, p), (n, k, s, p)
    assert len(combos) > 150


def test_dilated_conv2d_matches_keras(keras_layers):
    tf, layers = keras_layers
    combos = list(itertools.product(SIZES, [2, 3], [2, 3], PADDINGS))
    for n, k, d, p in combos:
        real = _keras_hw(tf, layers.Conv2D(1, k, padding=p, dilation_rate=d), n, n + 3)
        assert real == _formula_hw(n, n + 3, k, 1, p, d), (n, k, d, p)


def test_conv_params_matches_keras(keras_layers):
    _, layers = keras_layers
    for k, c_in, c_out, bias in [(5, 1, 6, True), (3, 64, 128, True), (1, 32, 16, False)]:
        layer = layers.Conv2D(c_out, k, use_bias=bias)
        layer.build((None, 16, 16, c_in))
        assert layer.count_params() == conv_params(k, c_in, c_out, bias)
