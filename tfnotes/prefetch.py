"""Download the course's datasets and models once, on a connected machine, for offline use.

Command line (``python -m tfnotes.data`` delegates here)::

    python -m tfnotes.prefetch                 # everything (same as: prefetch all)
    python -m tfnotes.prefetch mnist imdb bert # only these
    python -m tfnotes.prefetch --list          # names, sizes, and what is already present
    python -m tfnotes.prefetch --force cifar10 # download again even if present

Everything goes into the data directory (:func:`tfnotes.data_dir`: ``$TFNOTES_DATA_DIR`` or the
repository's ``data/``), in exactly the layout the loaders and notebooks read, so the folder can be
copied to an offline machine (see ``data/README.md``):

=============== ======================================================== ==============================
name            where it lands (relative to the data dir)                read by
=============== ======================================================== ==============================
mnist           ``mnist.npz`` (the Keras file)                           ``tfnotes.data.load_mnist``
fashion_mnist   ``fashion-mnist/{train,t10k}-*-ubyte.gz``                ``tfnotes.data.load_fashion_mnist``
cifar10         ``cifar-10-batches-py/`` (archive unpacked, then deleted) ``tfnotes.data.load_cifar10``
imdb            ``aclImdb_v1.tar.gz`` + ``aclImdb/`` (``train/unsup``      ``bert_exp/text_classification_with_BERT``
                removed, as the notebook does)                           (``keras.utils.get_file`` cache)
mrpc            ``tensorflow_datasets/downloads/manual/`` (3 raw files)    ``bert_exp/Fine tune BERT``
                + ``tensorflow_datasets/glue/mrpc/2.0.0/`` (prepared)     (``tfds.load(..., data_dir=…)``)
bert            ``tfhub_modules/<sha1(handle)>/`` for the two TF Hub       ``tfnotes.bert.bert_handles``
                handles (tensorflow_hub's own cache layout)               with ``TFHUB_CACHE_DIR``
=============== ======================================================== ==============================

``iris`` and ``prices`` ship with installed packages (scikit-learn, arch): nothing to download.

Downloads are atomic: each file is streamed to ``<name>.part`` (plain text progress bar on stderr),
checked, then renamed into place. A body shorter than its ``Content-Length``, a size or checksum
mismatch, or an archive that does not read to the end raises :class:`PrefetchError` naming the file,
and the partial file is deleted. Checksums come from the sources' own registries: Keras's
``file_hash`` (mnist, cifar10) and TensorFlow Datasets' ``url_checksums`` (imdb, mrpc). Where no
checksum is published (Fashion-MNIST on the Keras host, TF Hub models) the size is checked against
``Content-Length`` and the content structurally (gzip CRC, IDX shape, complete tar with
``saved_model.pb``). Items already present and verified are skipped.

Before each download the host is probed with :func:`tfnotes.net.can_reach` (``$TFNOTES_NET_TIMEOUT``
seconds, default 3; through the HTTP(S) proxy if one is configured), so an offline machine fails in
seconds with a message saying what to do; ``TFNOTES_OFFLINE=1`` refuses at once.

Mirror: ``TFNOTES_MIRROR=https://my.mirror/base`` replaces every canonical host. A canonical URL
``https://HOST/PATH?QUERY`` is fetched as ``https://my.mirror/base/HOST/PATH?QUERY`` (:func:`mirror_url`):
the mirror is a plain tree of ``HOST/PATH`` files (what ``wget -x URL`` writes), the query is passed on
(static servers ignore it; reverse proxies need it). Checksums are enforced for mirror downloads too.

Used by: the command line above; documented in ``data/README.md``. Tests: ``tests/test_prefetch.py``.
TensorFlow is imported only to prepare GLUE MRPC with ``tensorflow_datasets``.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import importlib.util
import os
import pathlib
import shutil
import struct
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass
from typing import Callable

from . import env, net
from .env import data_dir
from .bert import HUB_ENCODER, HUB_PREPROCESS, hub_module_name, hub_module_ready

__all__ = [
    "PrefetchError",
    "Remote",
    "Item",
    "ITEMS",
    "MIRROR_ENV",
    "mirror_url",
    "hub_module_name",
    "fetch",
    "file_ok",
    "prefetch",
    "status",
    "main",
]

#: Environment variable holding the mirror base URL (see :func:`mirror_url`).
MIRROR_ENV = "TFNOTES_MIRROR"

# Canonical URLs, copied from the installed sources (Keras 3, tensorflow_datasets 4.9, the notebooks).
KERAS_DATA_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"  # keras/src/datasets/*.py
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"  # keras/src/datasets/cifar10.py
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"  # the notebook's IMDB_URL
MRPC_TRAIN = "https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_train.txt"  # tfds glue.py
MRPC_TEST = "https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_test.txt"
MRPC_DEV_IDS = ("https://firebasestorage.googleapis.com/v0/b/mtl-sentence-representations.appspot.com/o/"
                "data%2Fmrpc_dev_ids.tsv?alt=media&token=ec5c0836-31d5-48f4-b431-7480817f1adc")
#: The two TF Hub handles the bert_exp notebooks use (``tfnotes.bert``; importing it loads no TensorFlow).
HUB_HANDLES = (HUB_ENCODER, HUB_PREPROCESS)
#: tensorflow_hub fetches ``handle + ?tf-hub-format=compressed`` (compressed_module_resolver.py).
HUB_COMPRESSED_QUERY = ("tf-hub-format", "compressed")

TFDS_SUBDIR = "tensorflow_datasets"
MRPC_MANUAL = f"{TFDS_SUBDIR}/downloads/manual"
MRPC_PREPARED = f"{TFDS_SUBDIR}/glue/mrpc/2.0.0"  # tfds glue VERSION 2.0.0
HUB_SUBDIR = "tfhub_modules"
IDX_COUNTS = {"train": 60000, "t10k": 10000}


class PrefetchError(RuntimeError):
    """A download or check failed; the message names the file or name and says what to do."""


@dataclass(frozen=True)
class Remote:
    """One file to download: canonical ``url`` → ``dest`` (path relative to the data dir).

    ``sha256`` / ``size`` are the published values where the source has them; ``check(path)`` is an
    extra structural check that raises ``ValueError`` (or ``OSError``/``EOFError``) for bad content.
    """

    url: str
    dest: str
    sha256: str | None = None
    size: int | None = None
    check: Callable[[pathlib.Path], None] | None = None


@dataclass(frozen=True)
class Item:
    """A prefetchable name: the files to download, a presence test, and a finishing step.

    ``present(root)`` returns True when everything is in place and verified; ``finish(root)`` runs after
    all files are downloaded and verified (unpack, prepare); ``offline`` (for items that ship with a
    package) says why there is nothing to download.
    """

    name: str
    title: str
    size: str
    files: tuple = ()
    present: Callable[[pathlib.Path], bool] | None = None
    finish: Callable[[pathlib.Path], None] | None = None
    lands: str = ""
    offline: str | None = None


# --------------------------------------------------------------------------- URLs and network


def mirror_url(url: str, base: str | None = None) -> str:
    """Return the URL to fetch for canonical ``url``: unchanged, or on the mirror if one is set.

    ``base`` defaults to ``$TFNOTES_MIRROR``. Mapping: ``https://HOST/PATH?QUERY`` →
    ``<base>/HOST/PATH?QUERY`` (the path keeps its percent-escapes; the query is kept).
    """
    base = os.environ.get(MIRROR_ENV, "") if base is None else base
    base = base.strip()
    if not base:
        return url
    parts = urllib.parse.urlsplit(url)
    mapped = f"{base.rstrip('/')}/{parts.hostname}{parts.path}"
    return f"{mapped}?{parts.query}" if parts.query else mapped


def _timeout() -> float:
    return env.net_timeout()


def _require_reachable(url: str, what: str) -> None:
    """Raise :class:`PrefetchError` at once if ``url``'s host (or proxy) does not answer in time."""
    if env.offline():
        raise PrefetchError(f"TFNOTES_OFFLINE=1 is set: not downloading {what}. Unset it to prefetch.")
    timeout = _timeout()
    label = net.route(url).describe()
    if not net.can_reach(url, timeout):
        hint = (f"check the mirror {os.environ[MIRROR_ENV]!r} ({MIRROR_ENV})" if os.environ.get(MIRROR_ENV)
                else f"set {MIRROR_ENV}=https://your.mirror/base (files under <base>/<host>/<path>)")
        raise PrefetchError(
            f"cannot reach {label} within {timeout:g} s, needed for {what} ({url}). "
            f"Check the network or proxy (HTTPS_PROXY), or {hint}; "
            f"a slow network may need a larger TFNOTES_NET_TIMEOUT (now {timeout:g})."
        )


# --------------------------------------------------------------------------- progress bar


class _Progress:
    """Plain text progress bar on stderr: redrawn in place on a terminal, one line per 25 % otherwise."""

    def __init__(self, label: str, total: int | None, enabled: bool = True):
        self.label, self.total, self.done = label, total, 0
        self.enabled = enabled
        self.tty = enabled and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        self.start = self.last = time.time()
        self.quarter = 0

    def update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.time()
        if self.tty and now - self.last >= 0.1:
            self.last = now
            sys.stderr.write("\r" + self._line())
            sys.stderr.flush()
        elif not self.tty and self.total:
            quarter = min(4, self.done * 4 // self.total)
            if quarter > self.quarter and quarter < 4:
                self.quarter = quarter
                sys.stderr.write(self._line() + "\n")
                sys.stderr.flush()

    def _line(self) -> str:
        mb = self.done / 1e6
        rate = mb / max(time.time() - self.start, 1e-6)
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            return f"  {self.label} [{bar:<30}] {frac:4.0%} {mb:7.1f}/{self.total / 1e6:.1f} MB {rate:5.1f} MB/s"
        return f"  {self.label} {mb:7.1f} MB {rate:5.1f} MB/s"

    def close(self, ok: bool) -> None:
        if not self.enabled:
            return
        if self.tty:
            sys.stderr.write("\r" + self._line() + "\n")
        elif ok:
            sys.stderr.write(self._line() + "\n")
        sys.stderr.flush()


# --------------------------------------------------------------------------- download + verify


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(remote: Remote, path: pathlib.Path) -> None:
    """Raise ``ValueError`` if ``path`` does not match ``remote``'s size, checksum or structural check."""
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        raise ValueError(f"size {size:,} bytes, expected {remote.size:,}")
    if remote.sha256 is not None:
        got = _sha256(path)
        if got != remote.sha256:
            raise ValueError(f"sha256 {got} does not match the published {remote.sha256}")
    if remote.check is not None:
        try:
            remote.check(path)
        except (OSError, EOFError, zlib.error, struct.error, tarfile.TarError) as exc:
            raise ValueError(f"{type(exc).__name__}: {exc}") from exc


def file_ok(remote: Remote, root: pathlib.Path | None = None) -> bool:
    """Return True if ``remote.dest`` exists under ``root`` (default: the data dir) and verifies."""
    path = (root or data_dir()) / remote.dest
    if not path.is_file():
        return False
    try:
        _verify(remote, path)
    except ValueError:
        return False
    return True


def fetch(remote: Remote, root: pathlib.Path | None = None, *, force: bool = False,
          progress: bool = True) -> pathlib.Path:
    """Download ``remote`` into ``root / remote.dest`` (default root: the data dir); return the path.

    Skips the download if the file is already there and verifies (unless ``force``). Otherwise streams
    to ``<dest>.part``, checks the length against ``Content-Length`` and the published size/checksum (and
    ``remote.check``), and renames into place. Honours ``$TFNOTES_MIRROR`` (:func:`mirror_url`).

    Raises :class:`PrefetchError` (naming the file) if the host is unreachable, the server answers with
    an error, the body is truncated, or verification fails; the ``.part`` file is deleted.
    """
    root = root or data_dir()
    dest = root / remote.dest
    if not force and file_ok(remote, root):
        return dest
    url = mirror_url(remote.url)
    name = remote.dest  # as named in messages: the path under the data dir
    _require_reachable(url, name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    bar = None
    try:
        try:
            # urllib's default User-Agent and redirect handling, as keras.utils.get_file and tensorflow_hub use
            with urllib.request.urlopen(url, timeout=max(30.0, _timeout())) as response:
                length = response.headers.get("Content-Length")
                expected = int(length) if length and length.isdigit() else None
                bar = _Progress(dest.name, expected or remote.size, progress)
                with open(part, "wb") as out:
                    while True:
                        block = response.read(1 << 16)
                        if not block:
                            break
                        out.write(block)
                        bar.update(len(block))
        except urllib.error.HTTPError as exc:
            raise PrefetchError(f"{name}: the server answered HTTP {exc.code} {exc.reason} for {url}") from exc
        except (http.client.IncompleteRead, OSError) as exc:  # URLError, timeouts, resets are OSErrors
            got = bar.done if bar else 0
            raise PrefetchError(
                f"{name}: download from {url} failed after {got:,} bytes ({type(exc).__name__}: {exc}); "
                "partial file deleted, run the command again"
            ) from exc
        if expected is not None and bar.done != expected:
            raise PrefetchError(
                f"{name}: truncated download from {url}: received {bar.done:,} of {expected:,} bytes "
                "(Content-Length); partial file deleted, run the command again"
            )
        try:
            _verify(remote, part)
        except ValueError as exc:
            raise PrefetchError(
                f"{name}: downloaded file from {url} failed verification: {exc}. Partial file deleted; "
                "if this repeats, the source (or mirror) serves a different or damaged file"
            ) from exc
        os.replace(part, dest)
        if bar:
            bar.close(True)
        return dest
    finally:
        if part.exists():
            if bar:
                bar.close(False)
            part.unlink()


# --------------------------------------------------------------------------- structural checks


def _idx_check(count: int) -> Callable[[pathlib.Path], None]:
    """Check a gzipped IDX file completely with the loader's own reader (gzip CRC, header, body size) and
    its number of examples."""

    def check(path: pathlib.Path) -> None:
        from .data import DatasetCorrupt, read_idx  # NumPy only

        try:
            examples = len(read_idx(path))
        except DatasetCorrupt as exc:
            raise ValueError(str(exc.__cause__ or exc)) from exc
        if examples != count:
            raise ValueError(f"{examples} examples, expected {count}")

    return check


def _tar_check(required: str) -> Callable[[pathlib.Path], None]:
    """Read a tar(.gz) to the end (gzip CRC included) and require a member whose name ends in ``required``."""

    def check(path: pathlib.Path) -> None:
        found = False
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if member.isfile():
                    handle = tar.extractfile(member)
                    while handle.read(1 << 20):
                        pass
                found = found or member.name.rstrip("/").endswith(required)
        if not found:
            raise ValueError(f"archive has no {required}")

    return check


def _extract(archive: pathlib.Path, target: pathlib.Path) -> None:
    """Unpack ``archive`` into the new folder ``target`` (path-traversal safe data filter)."""
    target.mkdir(parents=True)
    with tarfile.open(archive, "r:*") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, filter="data")
        else:  # pragma: no cover - Python < 3.11.4
            tar.extractall(target)


def _replace_dir(src: pathlib.Path, dest: pathlib.Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    os.replace(src, dest)


# --------------------------------------------------------------------------- the items


def _gz_names() -> list[str]:
    return [f"{split}-{kind}-ubyte.gz" for split in ("train", "t10k") for kind in ("images-idx3", "labels-idx1")]


_FASHION = tuple(
    Remote(KERAS_DATA_URL + "fashion-mnist/" + name, f"fashion-mnist/{name}",
           check=_idx_check(IDX_COUNTS[name.split("-")[0]]))
    for name in _gz_names()
)
_CIFAR_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
_CIFAR = Remote(CIFAR10_URL, "cifar-10-python.tar.gz",
                sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")
_IMDB = Remote(IMDB_URL, "aclImdb_v1.tar.gz", size=84125825,
               sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe")
_MRPC = (
    Remote(MRPC_TRAIN, f"{MRPC_MANUAL}/msr_paraphrase_train.txt", size=1047044,
           sha256="60a9b09084528f0673eedee2b69cb941920f0b8cd0eeccefc464a98768457f89"),
    Remote(MRPC_TEST, f"{MRPC_MANUAL}/msr_paraphrase_test.txt", size=441275,
           sha256="a04e271090879aaba6423d65b94950c089298587d9c084bf9cd7439bd785f784"),
    Remote(MRPC_DEV_IDS, f"{MRPC_MANUAL}/data_mrpc_dev_ids.tsv", size=6222,
           sha256="971d7767d81b997fd9060ade0ec23c4fc31cbb226a55d1bd4a1bac474eb81dc7"),
)


def _hub_url(handle: str) -> str:
    parts = urllib.parse.urlsplit(handle)
    query = urllib.parse.parse_qsl(parts.query) + [HUB_COMPRESSED_QUERY]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


_HUB = tuple(
    Remote(_hub_url(handle), f"{HUB_SUBDIR}/{hub_module_name(handle)}.tar.gz", check=_tar_check("saved_model.pb"))
    for handle in HUB_HANDLES
)


def _all_ok(remotes) -> Callable[[pathlib.Path], bool]:
    return lambda root: all(file_ok(r, root) for r in remotes)


def _cifar_present(root: pathlib.Path) -> bool:
    return all((root / "cifar-10-batches-py" / name).is_file() for name in _CIFAR_BATCHES)


def _cifar_finish(root: pathlib.Path) -> None:
    archive = root / _CIFAR.dest
    tmp = root / f".cifar10.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _extract(archive, tmp)
        if not all((tmp / "cifar-10-batches-py" / n).is_file() for n in _CIFAR_BATCHES):
            raise PrefetchError(f"{archive.name} does not contain cifar-10-batches-py/{{{','.join(_CIFAR_BATCHES)}}}")
        _replace_dir(tmp / "cifar-10-batches-py", root / "cifar-10-batches-py")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    archive.unlink()  # the loader reads the unpacked batches only


def _imdb_present(root: pathlib.Path) -> bool:
    folder = root / "aclImdb"
    return (file_ok(_IMDB, root) and not (folder / "train" / "unsup").exists()
            and all((folder / s / c).is_dir() for s in ("train", "test") for c in ("neg", "pos")))


def _imdb_finish(root: pathlib.Path) -> None:
    tmp = root / f".aclImdb.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _extract(root / _IMDB.dest, tmp)
        folder = tmp / "aclImdb"
        if not all((folder / s / c).is_dir() for s in ("train", "test") for c in ("neg", "pos")):
            raise PrefetchError(f"{_IMDB.dest} does not contain aclImdb/{{train,test}}/{{neg,pos}}")
        shutil.rmtree(folder / "train" / "unsup", ignore_errors=True)  # unlabeled: the notebook removes it too
        _replace_dir(folder, root / "aclImdb")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # The archive stays: it is keras.utils.get_file's cache entry (<data dir>/aclImdb_v1.tar.gz).


def _mrpc_present(root: pathlib.Path, prepare: bool = True) -> bool:
    if not all(file_ok(r, root) for r in _MRPC):
        return False
    return not prepare or (root / MRPC_PREPARED / "dataset_info.json").is_file()


def _mrpc_prepare(root: pathlib.Path) -> None:
    """Build ``tensorflow_datasets/glue/mrpc/2.0.0`` from the three verified raw files (imports TF)."""
    if importlib.util.find_spec("tensorflow_datasets") is None:
        print("  mrpc: tensorflow_datasets not installed: raw files left in "
              f"{MRPC_MANUAL}/ (the notebook prepares them on first use)", file=sys.stderr)
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow_datasets as tfds

    print("  mrpc: preparing glue/mrpc with tensorflow_datasets from the raw files …", file=sys.stderr)
    try:
        builder = tfds.builder("glue/mrpc", data_dir=str(root / TFDS_SUBDIR))
        config = tfds.download.DownloadConfig(manual_dir=str(root / MRPC_MANUAL), try_download_gcs=False)
        builder.download_and_prepare(download_config=config)  # uses the manual files: no network
    except Exception as exc:  # tfds raises many types (checksum, I/O, builder errors)
        raise PrefetchError(
            f"mrpc: tensorflow_datasets could not prepare glue/mrpc from {MRPC_MANUAL}/ "
            f"({type(exc).__name__}: {str(exc)[:500]}). The verified raw files stay there (the notebook's "
            "'manual' route reads them); `prefetch --no-prepare mrpc` skips this step."
        ) from exc


def _hub_present(root: pathlib.Path) -> bool:
    return all(hub_module_ready(root / HUB_SUBDIR, h) for h in HUB_HANDLES)  # the test bert_handles() uses


def _hub_finish(root: pathlib.Path) -> None:
    for handle, remote in zip(HUB_HANDLES, _HUB):
        archive = root / remote.dest
        module = root / HUB_SUBDIR / hub_module_name(handle)
        if not archive.exists():  # this module was already in place
            continue
        tmp = module.with_name(f"{module.name}.{os.getpid()}.tmp")  # tensorflow_hub's temp naming
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            _extract(archive, tmp)
            if not (tmp / "saved_model.pb").is_file():
                raise PrefetchError(f"{archive.name} ({handle}) has no saved_model.pb at its top level")
            # The descriptor file tensorflow_hub writes next to each module (informational only).
            module.with_name(module.name + ".descriptor.txt").write_text(
                f"Module: {handle}\nDownload Time: {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
                "Downloader: python -m tfnotes.prefetch bert\n", encoding="utf-8")
            _replace_dir(tmp, module)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        archive.unlink()


def _hub_files(root: pathlib.Path) -> tuple:
    """Only the handles not yet in the cache need their archive."""
    return tuple(r for h, r in zip(HUB_HANDLES, _HUB) if not hub_module_ready(root / HUB_SUBDIR, h))


ITEMS: dict = {
    item.name: item
    for item in (
        Item("iris", "Iris", "-", offline="ships with scikit-learn (load_iris): nothing to download"),
        Item("mnist", "MNIST (Keras mnist.npz)", "11 MB", (Remote(
            KERAS_DATA_URL + "mnist.npz", "mnist.npz",
            sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),),
            lands="mnist.npz"),
        Item("fashion_mnist", "Fashion-MNIST (Keras host)", "31 MB", _FASHION, lands="fashion-mnist/"),
        Item("cifar10", "CIFAR-10 (python version)", "170 MB", (_CIFAR,), present=_cifar_present,
             finish=_cifar_finish, lands="cifar-10-batches-py/"),
        Item("imdb", "IMDB reviews (aclImdb_v1)", "84 MB", (_IMDB,), present=_imdb_present,
             finish=_imdb_finish, lands="aclImdb_v1.tar.gz + aclImdb/"),
        Item("mrpc", "GLUE MRPC (tfds glue/mrpc)", "1.5 MB", _MRPC, present=_mrpc_present,
             finish=_mrpc_prepare, lands=f"{MRPC_MANUAL}/ + {MRPC_PREPARED}/"),
        Item("bert", "TF Hub small BERT + preprocess", "unknown", _HUB, present=_hub_present,
             finish=_hub_finish, lands=f"{HUB_SUBDIR}/<sha1(handle)>/"),
        Item("prices", "daily prices", "-", offline="ships with arch (S&P 500); put SH600519.csv in the "
             "data dir for the course's own file: nothing to download"),
    )
}


# --------------------------------------------------------------------------- driver


def _select(names) -> list:
    names = [n.strip().lower().replace("-", "_") for n in (names or [])]
    if not names or "all" in names:
        return list(ITEMS.values())
    unknown = [n for n in names if n not in ITEMS]
    if unknown:
        raise PrefetchError(f"unknown name(s): {', '.join(unknown)}. Choose from: all, {', '.join(ITEMS)}")
    return [ITEMS[n] for n in dict.fromkeys(names)]


def _present(item: Item, root: pathlib.Path, prepare: bool = True) -> bool | None:
    if item.offline:
        return None
    if item.name == "mrpc":
        return _mrpc_present(root, prepare)
    test = item.present or _all_ok(item.files)
    return test(root)


def prefetch(names=None, *, root: pathlib.Path | None = None, force: bool = False, prepare: bool = True,
             progress: bool = True) -> dict:
    """Download ``names`` (default / ``"all"``: every item) into ``root`` (default: the data dir).

    Returns ``{name: "present" | "downloaded" | "offline"}``. Items already present and verified are
    skipped unless ``force``. ``prepare=False`` leaves GLUE MRPC as raw files (no TensorFlow import).

    Raises :class:`PrefetchError` for an unknown name (before any download) or the first failed
    download/verification (items finished before it stay in place).
    """
    items = _select(names)
    root = pathlib.Path(root) if root is not None else data_dir()
    root.mkdir(parents=True, exist_ok=True)
    result = {}
    for item in items:
        if item.offline:
            print(f"{item.name}: {item.offline}", file=sys.stderr)
            result[item.name] = "offline"
            continue
        if not force and _present(item, root, prepare):
            print(f"{item.name}: already present and verified ({item.lands})", file=sys.stderr)
            result[item.name] = "present"
            continue
        print(f"{item.name}: {item.title} → {item.lands}", file=sys.stderr)
        files = _hub_files(root) if item.name == "bert" and not force else item.files
        for remote in files:
            fetch(remote, root, force=force, progress=progress)
        if item.finish and (item.name != "mrpc" or prepare):
            item.finish(root)
        result[item.name] = "downloaded"
    return result


def status(root: pathlib.Path | None = None, prepare: bool = True) -> list:
    """Return ``[(name, title, size, state, lands)]`` for every item; state is present/missing/offline."""
    root = pathlib.Path(root) if root is not None else data_dir()
    rows = []
    for item in ITEMS.values():
        present = _present(item, root, prepare)
        state = "offline" if present is None else "present" if present else "missing"
        rows.append((item.name, item.title, item.size, state, item.offline or item.lands))
    return rows


def _print_list(root: pathlib.Path, prepare: bool) -> None:
    print(f"data dir: {root}  (set TFNOTES_DATA_DIR to change; mirror: "
          f"{os.environ.get(MIRROR_ENV) or 'none, set ' + MIRROR_ENV})")
    print(f"{'name':<14}{'size':>9}  {'state':<8} contents")
    for name, title, size, state, lands in status(root, prepare):
        print(f"{name:<14}{size:>9}  {state:<8} {title}: {lands}")


def main(argv=None) -> int:
    """Command line: ``python -m tfnotes.prefetch [--list] [--force] [--no-prepare] [names…]``.

    Returns the exit status: 0 done, 1 a download/check failed, 2 usage error or unknown name.
    """
    parser = argparse.ArgumentParser(
        prog="python -m tfnotes.data",
        description="Download the course's datasets and models into the data dir for offline use.",
        epilog=f"names: all (default), {', '.join(ITEMS)}. Mirror: {MIRROR_ENV}=https://host/base "
               "fetches <base>/<canonical host>/<path>.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prefetch", help="download datasets/models into the data dir")
    p.add_argument("names", nargs="*", help="names to download (default: all)")
    p.add_argument("--list", action="store_true", help="show names, sizes and what is already present")
    p.add_argument("--force", action="store_true", help="download again even if present")
    p.add_argument("--no-prepare", action="store_true",
                   help="keep GLUE MRPC as raw files (skip the tensorflow_datasets preparation)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    root = data_dir()
    if args.list:
        _print_list(root, not args.no_prepare)
        return 0
    try:
        _select(args.names)
    except PrefetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        done = prefetch(args.names, root=root, force=args.force, prepare=not args.no_prepare,
                        progress=not args.quiet)
    except PrefetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    fetched = [n for n, s in done.items() if s == "downloaded"]
    print(f"done: {len(fetched)} downloaded, {sum(s == 'present' for s in done.values())} already present "
          f"→ {root}. Copy this folder to the offline machine (as data/ or $TFNOTES_DATA_DIR).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] if sys.argv[1:2] == ["prefetch"] else ["prefetch", *sys.argv[1:]]))
