"""tfnotes.prefetch: mirror mapping, atomic verified downloads, truncated/corrupt rejection, skip
when present, unknown names, fail-fast when unreachable, and the on-disk layouts the loaders read.

Fully offline: a local ``http.server`` on 127.0.0.1 plays the mirror (``TFNOTES_MIRROR``); files are
laid out under it as ``<canonical host>/<path>``. The data dir is a temporary folder."""

import dataclasses
import functools
import gzip
import hashlib
import http.server
import importlib.util
import io
import os
import pathlib
import pickle
import re
import socket
import struct
import subprocess
import sys
import tarfile
import threading
import time
import urllib.parse

import numpy as np
import pytest

from tfnotes import prefetch
from tfnotes.prefetch import PrefetchError, Remote

REPO = pathlib.Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- fixtures


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files from the mirror folder; paths in ``server.lies`` get a Content-Length that
    lies."""

    def do_GET(self):  # noqa: N802 (http.server naming)
        self.server.requests.append(self.path)
        path = urllib.parse.urlsplit(self.path).path
        if path in self.server.lies:
            body, claimed = self.server.lies[path]
            self.send_response(200)
            self.send_header("Content-Length", str(claimed))
            self.end_headers()
            self.wfile.write(body)  # then the connection closes (HTTP/1.0): the body is short
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """A mirror on 127.0.0.1 (random free port) serving ``tmp_path/mirror``; shut down
    afterwards."""
    root = tmp_path / "mirror"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(root))
    )
    httpd.lies, httpd.requests = {}, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield dataclasses.make_dataclass("S", ["base", "root", "httpd"])(
            f"http://127.0.0.1:{httpd.server_address[1]}/base", root, httpd
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    """Temporary data dir, no proxy, default timeouts; the mirror is set per test."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("TFNOTES_DATA_DIR", str(data))
    for name in (
        "TFNOTES_MIRROR",
        "TFNOTES_OFFLINE",
        "TFNOTES_NET_TIMEOUT",
        "TFHUB_CACHE_DIR",
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    return data


def publish(server, url, body: bytes) -> None:
    """Put ``body`` on the mirror where canonical ``url`` maps to (``<host>/<unquoted path>``)."""
    parts = urllib.parse.urlsplit(url)
    path = server.root / "base" / parts.hostname / urllib.parse.unquote(parts.path).lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def leftovers(folder: pathlib.Path) -> list:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- mirror mapping


def test_mirror_url_mapping(monkeypatch):
    url = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    assert prefetch.mirror_url(url) == url  # no mirror: canonical
    monkeypatch.setenv("TFNOTES_MIRROR", "https://m.example/base/")
    assert (
        prefetch.mirror_url(url)
        == "https://m.example/base/storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    )
    assert prefetch.mirror_url(prefetch.MRPC_DEV_IDS) == (
        "https://m.example/base/firebasestorage.googleapis.com/v0/b/mtl-sentence-representations.appspot.com"
        "/o/data%2Fmrpc_dev_ids.tsv?alt=media&token=ec5c0836-31d5-48f4-b431-7480817f1adc"
    )
    assert prefetch.mirror_url(prefetch._HUB[1].url) == (
        "https://m.example/base/tfhub.dev/tensorflow/bert_en_uncased_preprocess/3?tf-hub-format=compressed"
    )


# --------------------------------------------------------------------------- one file


def test_good_file_verified_and_placed_atomically(server, env, monkeypatch, capsys):
    body = os.urandom(300_000)
    url = "https://example.org/files/blob.bin"
    publish(server, url, body)
    monkeypatch.setenv("TFNOTES_MIRROR", server.base)
    renames = []
    real_replace = os.replace
    monkeypatch.setattr(
        os, "replace", lambda a, b: (renames.append((str(a), str(b))), real_replace(a, b))
    )

    path = prefetch.fetch(Remote(url, "sub/blob.bin", sha256=sha(body), size=len(body)))

    assert path == env / "sub" / "blob.bin" and path.read_bytes() == body
    assert renames == [
        (str(path) + ".part", str(path))
    ]  # written as .part, renamed only after checks
    assert leftovers(env) == ["sub/blob.bin"]
    assert server.httpd.requests == ["/base/example.org/files/blob.bin"]
    out, err = capsys.readouterr()
    # Keras' progress bar, moved to stderr
    assert "blob.bin" in err and "300000/300000" in err and out == ""


def test_truncated_body_rejected(server, env, monkeypatch):
    body = os.urandom(50_000)
    server.httpd.lies["/base/example.org/big.bin"] = (body[:20_000], len(body))
    monkeypatch.setenv("TFNOTES_MIRROR", server.base)
    with pytest.raises(
        PrefetchError, match=r"big\.bin: truncated download .*20,000 of 50,000 bytes"
    ):
        # no checksum: Content-Length decides
        prefetch.fetch(Remote("https://example.org/big.bin", "big.bin"))
    assert leftovers(env) == []  # no partial file, nothing renamed into place


def test_checksum_mismatch_rejected(server, env, monkeypatch):
    url = "https://example.org/files/data.npz"
    publish(server, url, b"not the published file")
    monkeypatch.setenv("TFNOTES_MIRROR", server.base)
    with pytest.raises(
        PrefetchError, match=r"data\.npz: downloaded file .* sha256 .* does not match"
    ):
        prefetch.fetch(Remote(url, "data.npz", sha256=sha(b"the published file")))
    assert leftovers(env) == []


def test_http_error_names_the_file(server, env, monkeypatch):
    monkeypatch.setenv("TFNOTES_MIRROR", server.base)
    with pytest.raises(PrefetchError, match=r"gone\.bin: the server answered HTTP 404"):
        prefetch.fetch(Remote("https://example.org/gone.bin", "gone.bin"))
    assert leftovers(env) == []


def test_present_file_is_skipped_without_network(env, monkeypatch):
    body = b"already here"
    (env / "kept.bin").write_bytes(body)
    monkeypatch.setenv("TFNOTES_OFFLINE", "1")  # any network use would raise
    assert (
        prefetch.fetch(Remote("https://example.org/kept.bin", "kept.bin", sha256=sha(body)))
        == env / "kept.bin"
    )
    # a damaged copy is not "present": it is downloaded again (here: refused, being offline)
    (env / "kept.bin").write_bytes(b"already hera")
    with pytest.raises(PrefetchError, match="TFNOTES_OFFLINE=1"):
        prefetch.fetch(Remote("https://example.org/kept.bin", "kept.bin", sha256=sha(body)))


# --------------------------------------------------------------------------- names, network


def test_unknown_name_is_a_clear_error(monkeypatch, env, capsys):
    monkeypatch.setenv("TFNOTES_MIRROR", "http://127.0.0.1:9/never-used")
    with pytest.raises(
        PrefetchError, match=r"unknown name\(s\): nope\. Choose from: all, iris, mnist"
    ):
        prefetch.prefetch(["mnist", "nope"])  # rejected before any download
    assert prefetch.main(["prefetch", "mnist", "nope"]) == 2
    assert "unknown name(s): nope" in capsys.readouterr().err
    assert leftovers(env) == []


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("mirror", ["refused", "blackhole"])
def test_unreachable_mirror_fails_fast(monkeypatch, env, mirror):
    base = (
        f"http://127.0.0.1:{closed_port()}/base" if mirror == "refused" else "http://192.0.2.1/base"
    )
    monkeypatch.setenv("TFNOTES_MIRROR", base)  # 192.0.2.1: TEST-NET-1, never answers
    monkeypatch.setenv("TFNOTES_NET_TIMEOUT", "1")
    start = time.time()
    with pytest.raises(
        PrefetchError, match=r"cannot reach .* within 1 s, needed for mnist\.npz.*TFNOTES_MIRROR"
    ):
        prefetch.prefetch(["mnist"])
    assert time.time() - start < 3
    assert leftovers(env) == []


def test_cli_list_is_fast_and_imports_no_tensorflow(env):
    code = (
        "import sys; from tfnotes import prefetch; rc = prefetch.main(['prefetch', '--list']); "
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, TFNOTES_DATA_DIR=str(env)),
    )
    assert proc.returncode == 0, proc.stderr
    for name in prefetch.ITEMS:
        assert re.search(rf"^{name}\s", proc.stdout, re.M), proc.stdout
    assert re.search(r"^mnist\s+11 MB\s+missing", proc.stdout, re.M) and re.search(
        r"^iris .*offline", proc.stdout, re.M
    )


def test_python_m_tfnotes_prefetch_rejects_unknown_names(env):
    proc = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "tfnotes.prefetch", "nope"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, TFNOTES_DATA_DIR=str(env)),
    )
    assert proc.returncode == 2 and "unknown name(s): nope" in proc.stderr, proc.stderr


def test_old_command_names_the_new_one():
    proc = subprocess.run(
        [sys.executable, "-m", "tfnotes.data", "prefetch"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "python -m tfnotes.prefetch" in proc.stderr


# --------------------------------------------------------------------------- registry


def _package_file(package: str, *parts: str) -> pathlib.Path:
    spec = importlib.util.find_spec(package)  # locates the package without importing it
    return pathlib.Path(list(spec.submodule_search_locations)[0], *parts)


def test_checksums_match_the_installed_sources():
    """URLs, sizes and sha256 values are the ones Keras and tensorflow_datasets themselves use."""
    mnist_src = _package_file("keras", "src", "datasets", "mnist.py").read_text()
    cifar_src = _package_file("keras", "src", "datasets", "cifar10.py").read_text()
    mnist = prefetch.ITEMS["mnist"].files[0]
    assert f'"{mnist.sha256}"' in mnist_src and 'f"{origin_folder}mnist.npz"' in mnist_src
    assert mnist.url.startswith(re.search(r'"(https://[^"]+)"', mnist_src).group(1))
    assert f'"{prefetch._CIFAR.sha256}"' in cifar_src and f'"{prefetch.CIFAR10_URL}"' in cifar_src
    for i, name in enumerate(
        [
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ]
    ):
        assert prefetch._FASHION[i].url == prefetch.KERAS_DATA_URL + "fashion-mnist/" + name

    glue = _package_file("tensorflow_datasets", "url_checksums", "glue.txt").read_text()
    for remote in prefetch._MRPC:
        assert (
            f"{remote.url}\t{remote.size}\t{remote.sha256}\t{pathlib.Path(remote.dest).name}\n"
            in glue
        )
    imdb = _package_file(
        "tensorflow_datasets", "datasets", "imdb_reviews", "checksums.tsv"
    ).read_text()
    # tfds registers the http:// form of the same file
    plain = prefetch._IMDB.url.replace("https://", "http://")
    assert f"{plain}\t{prefetch._IMDB.size}\t{prefetch._IMDB.sha256}\taclImdb_v1.tar.gz" in imdb


def test_hub_cache_names_match_tensorflow_hub():
    from tfnotes import bert

    resolver = _package_file("tensorflow_hub", "compressed_module_resolver.py").read_text()
    assert '_COMPRESSED_FORMAT_QUERY = ("tf-hub-format", "compressed")' in resolver
    assert 'hashlib.sha1(handle.encode("utf8")).hexdigest()' in resolver
    assert (
        prefetch._HUB[0].dest
        == f"tfhub_modules/{hashlib.sha1(bert.HUB_ENCODER.encode()).hexdigest()}"
    )


# --------------------------------------------------------------------------- layouts the loaders
# read


def idx_gz(array: np.ndarray) -> bytes:
    header = struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(
        ">" + "I" * array.ndim, *array.shape
    )
    return gzip.compress(header + array.astype(np.uint8).tobytes(), compresslevel=1)


def test_fashion_mnist_end_to_end_then_skipped(server, env, monkeypatch, capsys):
    """Full-size IDX files (zeros) through the real registry entry; then the loader reads the data
    dir."""
    files = {
        "train-images-idx3-ubyte.gz": idx_gz(np.zeros((60000, 28, 28), np.uint8)),
        "train-labels-idx1-ubyte.gz": idx_gz(np.arange(60000) % 10),
        "t10k-images-idx3-ubyte.gz": idx_gz(np.zeros((10000, 28, 28), np.uint8)),
        "t10k-labels-idx1-ubyte.gz": idx_gz(np.arange(10000) % 10),
    }
    for name, body in files.items():
        publish(server, prefetch.KERAS_DATA_URL + "fashion-mnist/" + name, body)
    monkeypatch.setenv("TFNOTES_MIRROR", server.base)

    assert prefetch.prefetch(["fashion-mnist"]) == {"fashion_mnist": "downloaded"}
    assert leftovers(env) == sorted(f"fashion-mnist/{n}" for n in files)
    assert len(server.httpd.requests) == 4

    from tfnotes import data

    loaded = data.load_fashion_mnist()
    assert loaded.source.startswith("data dir") and loaded.x_train.shape == (60000, 28, 28)

    assert prefetch.prefetch(["fashion_mnist"]) == {"fashion_mnist": "present"}  # verified, skipped
    assert len(server.httpd.requests) == 4
    assert "already present and verified" in capsys.readouterr().err


def test_fashion_mnist_wrong_count_rejected(server, env, monkeypatch):
    publish(
        server,
        prefetch.KERAS_DATA_URL + "fashion-mnist/train-labels-idx1-ubyte.gz",
        idx_gz(np.zeros(5)),
    )
    monkeypatch.setenv("TFNOTES_MIRROR", server.base)
    with pytest.raises(
        PrefetchError,
        match=r"fashion-mnist/train-labels-idx1-ubyte\.gz: .*5 examples, expected 60000",
    ):
        prefetch.fetch(prefetch._FASHION[1])
    assert leftovers(env) == []


def tar_gz(members: dict) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, body in members.items():  # a name ending in "/" is a directory entry
            info = tarfile.TarInfo(name.rstrip("/"))
            info.size = len(body)
            info.type = tarfile.DIRTYPE if name.endswith("/") else tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


def with_checksum(monkeypatch, name: str, attr: str, remotes):
    """Swap an item's files for test files (their own checksums): the published ones cannot be
    faked."""
    monkeypatch.setattr(prefetch, attr, remotes)
    item = prefetch.ITEMS[name]
    files = remotes if isinstance(remotes, tuple) else (remotes,)
    monkeypatch.setitem(prefetch.ITEMS, name, dataclasses.replace(item, files=files))


def test_cifar10_unpacked_where_the_loader_looks(server, env, monkeypatch):
    rng = np.random.default_rng(0)

    def batch(n):
        return pickle.dumps(
            {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": list(range(n))}
        )

    members = {f"cifar-10-batches-py/data_batch_{i}": batch(2) for i in range(1, 6)}
    members |= {
        "cifar-10-batches-py/test_batch": batch(3),
        "cifar-10-batches-py/batches.meta": b"meta",
    }
    body = tar_gz(members)
    publish(server, prefetch.CIFAR10_URL, body)
    with_checksum(
        monkeypatch, "cifar10", "_CIFAR", dataclasses.replace(prefetch._CIFAR, sha256=sha(body))
    )
    monkeypatch.setenv("TFNOTES_MIRROR", server.base)

    assert prefetch.prefetch(["cifar10"]) == {"cifar10": "downloaded"}
    assert not (env / "cifar-10-python.tar.gz").exists() and not list(env.glob(".cifar10.tmp-*"))
    from tfnotes import data

    loaded = data.load_cifar10()
    assert loaded.source.startswith("data dir") and loaded.x_train.shape == (10, 32, 32, 3)
    assert prefetch.prefetch(["cifar10"]) == {"cifar10": "present"}


def test_imdb_archive_kept_and_unpacked_without_unsup(server, env, monkeypatch):
    members = {
        f"aclImdb/{split}/{label}/0_1.txt": b"review"
        for split in ("train", "test")
        for label in ("neg", "pos")
    }
    members["aclImdb/train/unsup/0_0.txt"] = b"unlabeled"
    body = tar_gz(members)
    publish(server, prefetch.IMDB_URL, body)
    with_checksum(
        monkeypatch,
        "imdb",
        "_IMDB",
        Remote(prefetch.IMDB_URL, "aclImdb_v1.tar.gz", sha256=sha(body)),
    )
    monkeypatch.setenv("TFNOTES_MIRROR", server.base)

    assert prefetch.prefetch(["imdb"]) == {"imdb": "downloaded"}
    assert (env / "aclImdb_v1.tar.gz").read_bytes() == body  # keras.utils.get_file's cache entry
    assert sorted(p.name for p in (env / "aclImdb" / "train").iterdir()) == ["neg", "pos"]
    assert prefetch.prefetch(["imdb"]) == {"imdb": "present"}


def test_mrpc_raw_files_where_tfds_looks_for_manual_downloads(server, env, monkeypatch):
    bodies = [b"train\n", b"test\n", b"dev ids\n"]
    remotes = tuple(
        dataclasses.replace(r, sha256=sha(b), size=len(b)) for r, b in zip(prefetch._MRPC, bodies)
    )
    for remote, body in zip(remotes, bodies):
        # the dev-ids URL's data%2F... is served from .../o/data/...
        publish(server, remote.url, body)
    with_checksum(monkeypatch, "mrpc", "_MRPC", remotes)
    monkeypatch.setenv("TFNOTES_MIRROR", server.base)

    assert prefetch.prefetch(["mrpc"], prepare=False) == {"mrpc": "downloaded"}
    manual = env / "tensorflow_datasets" / "downloads" / "manual"
    # the names bert_exp/Fine tune BERT checks (MRPC_RAW) and tfds registers in
    # url_checksums/glue.txt
    assert sorted(p.name for p in manual.iterdir()) == sorted(
        ["msr_paraphrase_train.txt", "msr_paraphrase_test.txt", "data_mrpc_dev_ids.tsv"]
    )
    assert prefetch.prefetch(["mrpc"], prepare=False) == {"mrpc": "present"}


def test_bert_in_tensorflow_hub_cache_layout(server, env, monkeypatch):
    from tfnotes import bert

    for handle in prefetch.HUB_HANDLES:
        # with its directory entries, as real TF Hub archives have (tensorflow_hub's extractor needs
        # them)
        publish(
            server,
            handle,
            tar_gz(
                {
                    "saved_model.pb": b"pb " + handle.encode(),
                    "variables/": b"",
                    "variables/variables.index": b"i",
                }
            ),
        )
    monkeypatch.setenv("TFNOTES_MIRROR", server.base)

    assert prefetch.prefetch(["bert"]) == {"bert": "downloaded"}
    assert all("?tf-hub-format=compressed" in r for r in server.httpd.requests)
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(env / "tfhub_modules"))
    assert bert.hub_cached(bert.HUB_ENCODER) and bert.hub_cached(bert.HUB_PREPROCESS)
    module = env / "tfhub_modules" / hashlib.sha1(bert.HUB_ENCODER.encode()).hexdigest()
    assert (module / "saved_model.pb").read_bytes() == b"pb " + bert.HUB_ENCODER.encode()
    assert not list((env / "tfhub_modules").glob("*.tar.gz")) and not list(
        (env / "tfhub_modules").glob("*.tmp")
    )
    assert prefetch.prefetch(["bert"]) == {"bert": "present"}


def test_truncated_hub_archive_rejected(server, env, monkeypatch):
    body = tar_gz({"saved_model.pb": os.urandom(200_000)})
    # honest length, damaged archive
    publish(server, prefetch.HUB_HANDLES[0], body[: len(body) // 2])
    monkeypatch.setenv("TFNOTES_MIRROR", server.base)
    with pytest.raises(
        PrefetchError, match=r"tfhub_modules/[0-9a-f]{40}: downloaded file .* failed verification"
    ):
        prefetch.prefetch(["bert"])
    assert leftovers(env) == []


def test_mrpc_prepare_goes_through_tfds_manual_files_offline(server, env, monkeypatch):
    """The prepare step hands the raw files to tfds (no network): tfds checks them against ITS
    registered checksums, so test files are refused there, and the refusal comes back as a
    PrefetchError."""
    pytest.importorskip("tensorflow_datasets")
    bodies = [b"train\n", b"test\n", b"dev ids\n"]
    remotes = tuple(
        dataclasses.replace(r, sha256=sha(b), size=len(b)) for r, b in zip(prefetch._MRPC, bodies)
    )
    for remote, body in zip(remotes, bodies):
        publish(server, remote.url, body)
    with_checksum(monkeypatch, "mrpc", "_MRPC", remotes)
    monkeypatch.setenv("TFNOTES_MIRROR", server.base)
    with pytest.raises(
        PrefetchError, match=r"could not prepare glue/mrpc .*NonMatchingChecksumError"
    ):
        prefetch.prefetch(["mrpc"])
    assert len(list((env / "tensorflow_datasets" / "downloads" / "manual").iterdir())) == 3
