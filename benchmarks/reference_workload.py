#!/usr/bin/env python
"""A fixed workload that the benchmark times before and after the notebooks: a yardstick for the
machine's speed.

The same 2-core machine runs the same notebooks 1.4 times slower in one hour than in another
(measured on 2026-11-29: every unchanged lesson 1.3-1.7 times), with nothing else running and no
steal time visible from inside. Timings from two benchmark runs need some scale for how fast the
machine was in each. This script is a rough one (see below for how well it tracks the notebooks):
nothing in it changes when the notebooks change. It does two kinds of work the chapter 1-6 notebooks
spend their time on:

- ``dense_fit``: building and tracing a 21-layer Dense-BN-ReLU Keras model and a short ``fit``
  (Python-bound, one core);
- ``conv_fit``: a small convolutional network trained for a few steps (numeric kernels, every core).

``import`` is the TensorFlow import. It prints one JSON line: the seconds of each part and their
``total``.

How well it tracks the notebooks (two whole-course runs on 2026-11-29, 12:09 and 14:09 UTC): the
reference took 0.69 times as long in the second run (28.7 s -> 19.9 s, before + after), the chapter
1-6 lessons 0.76 times and the unchanged chapter 1-4 and 6 solutions 0.75 times, but the two BERT
lessons 1.04 times. A third run (15:01 UTC): reference 1.24 times the 14:09 one, chapter 1-6 lessons
1.23-1.26 times, BERT lessons 1.03 times. So it is a rough scale for the Keras-bound notebooks
(tracing, small fits) and none for BERT's large matrix products; compare like with like. Run it
alone with ``python benchmarks/reference_workload.py``.
"""

import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

start = time.perf_counter()
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

seconds = {"import": time.perf_counter() - start}
keras = tf.keras
layers = keras.layers
rng = np.random.default_rng(0)


def timed(name, fn):
    begin = time.perf_counter()
    fn()
    seconds[name] = time.perf_counter() - begin


def dense_fit():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28))
    x = layers.Flatten()(inputs)
    for _ in range(10):  # 10 blocks of two Dense-BN-ReLU layers, as in chapter5's depth experiment
        for _ in range(2):
            x = layers.Activation("relu")(
                layers.BatchNormalization()(layers.Dense(64, use_bias=False)(x))
            )
    model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    data = rng.random((960, 28, 28), dtype=np.float32), rng.integers(0, 10, 960)
    model.fit(*data, batch_size=32, epochs=2, verbose=0)


def conv_fit():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    data = rng.random((1024, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 1024)
    model.fit(*data, batch_size=64, epochs=2, verbose=0)


timed("dense_fit", dense_fit)
timed("conv_fit", conv_fit)
seconds["total"] = sum(seconds.values())
print(json.dumps({name: round(value, 2) for name, value in seconds.items()}))
