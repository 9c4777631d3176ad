"""Numpy inference, checkpoint layout and loading (no trained model needed)."""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from gsea_plus.errors import ModelError
from gsea_plus.model.config import ModelConfig
from gsea_plus.model.network import Autoencoder, expected_keys
from gsea_plus.model.vocab import Vocab

GENES = [f"G{i}" for i in range(40)]


def write_published(
    directory: Path,
    *,
    vocab_size: int | None = None,
    seed: int = 0,
    dtype=np.float32,
    drop: str | None = None,
) -> Path:
    """A tiny checkpoint in exactly the published layout (config, vocab, safetensors)."""
    from safetensors.numpy import save_file

    directory.mkdir(parents=True, exist_ok=True)
    tokens = ["<unk>", "<pad>", *GENES]
    config = {"vocab_size": vocab_size or len(tokens), "d_model": 8, "depth": 2, "dropout": 0.2}
    (directory / "config.json").write_text(json.dumps(config))
    (directory / "vocab.txt").write_text("\n".join(tokens) + "\n")
    rng = np.random.default_rng(seed)
    cfg = ModelConfig(vocab_size=len(tokens), d_model=8, depth=2)
    tensors = {
        k: (rng.standard_normal(shape) * 0.3).astype(dtype)
        for k, shape in expected_keys(cfg).items()
        if k != drop
    }
    save_file(tensors, str(directory / "model.safetensors"))
    return directory


def test_published_keys_and_dims():
    cfg = ModelConfig(vocab_size=1000)
    assert cfg.encoder_dims == [1000, 512, 256]
    assert cfg.decoder_dims == [256, 256, 1000]
    assert set(expected_keys(cfg)) == {
        "encoder.layers.0.weight",
        "encoder.layers.0.bias",
        "encoder.layers.3.weight",
        "encoder.layers.3.bias",
        "decoder.layers.0.weight",
        "decoder.layers.0.bias",
        "decoder.layers.3.weight",
        "decoder.layers.3.bias",
    }
    assert expected_keys(cfg)["encoder.layers.0.weight"] == (512, 1000)


def test_config_round_trip(tmp_path):
    cfg = ModelConfig(
        vocab_size=77,
        d_model=32,
        depth=3,
        dropout=0.1,
        partition=0.5,
        loss="softmax",
        extra={"weighted_loss": "none"},
    )
    cfg.save(tmp_path / "config.json")
    back = ModelConfig.load(tmp_path / "config.json")
    assert back == cfg
    assert json.loads((tmp_path / "config.json").read_text())["weighted_loss"] == "none"
    (tmp_path / "bad.json").write_text('{"d_model": 4}')
    with pytest.raises(ModelError, match="bad.json.*vocab_size"):
        ModelConfig.load(tmp_path / "bad.json")


def test_numpy_inference_equals_torch_forward(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    from gsea_plus.model.train import _build_module, load_published_state

    d = write_published(tmp_path / "m", seed=3)
    net = Autoencoder.load(d)
    module = _build_module(net.config)
    load_published_state(module, load_file(str(d / "model.safetensors")))
    module.eval()
    rng = np.random.default_rng(1)
    ids = [np.sort(rng.choice(np.arange(2, 42), size=n, replace=False)) for n in (1, 5, 12)]
    x = torch.zeros((len(ids), net.config.vocab_size))
    for r, i in enumerate(ids):
        x[r, torch.from_numpy(i)] = 1.0
    with torch.no_grad():
        ref = module(x).numpy()
        bags = module.forward_bags(
            torch.from_numpy(np.concatenate(ids)),
            torch.tensor(np.cumsum([0] + [len(i) for i in ids[:-1]])),
        ).numpy()
    got = net.logits_ids(ids)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bags, ref, rtol=1e-5, atol=1e-5)
    probs = net.score_ids(ids)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-ref[:, 2:])), rtol=1e-5, atol=1e-6)
    # the encoding is the encoder output (d_model wide)
    assert net.encode_ids(ids).shape == (3, 8)


def test_save_float16_and_int8_round_trip(tmp_path):
    net = Autoencoder.load(write_published(tmp_path / "m"))
    ids = [np.array([2, 5, 9]), np.array([10, 11, 12, 30])]
    ref = net.logits_ids(ids)
    for dtype, tol in (("float16", 2e-3), ("int8", 3e-2)):
        net.save(tmp_path / dtype, dtype=dtype)
        back = Autoencoder.load(tmp_path / dtype)
        np.testing.assert_allclose(back.logits_ids(ids), ref, atol=tol * np.abs(ref).max())
    size32 = (tmp_path / "m" / "model.safetensors").stat().st_size
    assert (tmp_path / "int8" / "model.safetensors").stat().st_size < size32 / 2


def test_refuses_pickle_checkpoints(tmp_path):
    from gsea_plus.model import load_model

    d = tmp_path / "pickled"
    d.mkdir()
    (d / "config.json").write_text('{"vocab_size": 42}')
    (d / "vocab.txt").write_text("<unk>\n<pad>\nA\n")
    (d / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    with pytest.raises(ModelError, match="pytorch_model.bin: pickle"):
        load_model(d)
    with pytest.raises(ModelError, match="pickle"):
        load_model(d / "pytorch_model.bin")


@pytest.mark.parametrize(
    ("kind", "pattern"),
    [
        ("vocab", "vocab.txt has 42 tokens but config vocab_size is 50"),
        ("missing", "model.safetensors: missing keys decoder.layers.3.bias"),
        ("dtype", "model.safetensors: encoder.layers.0.weight has dtype int32"),
        ("corrupt", "model.safetensors: not a readable safetensors"),
    ],
)
def test_mismatched_checkpoints_name_the_file(tmp_path, kind, pattern):
    from safetensors.numpy import load_file, save_file

    d = tmp_path / kind
    if kind == "vocab":
        write_published(d, vocab_size=50)
    elif kind == "missing":
        write_published(d, drop="decoder.layers.3.bias")
    else:
        write_published(d)
        if kind == "dtype":
            t = load_file(str(d / "model.safetensors"))
            t["encoder.layers.0.weight"] = t["encoder.layers.0.weight"].astype(np.int32)
            save_file(t, str(d / "model.safetensors"))
        else:
            (d / "model.safetensors").write_bytes(b"garbage" * 10)
    with pytest.raises(ModelError, match=pattern):
        Autoencoder.load(d)


def test_wrong_weight_shape(tmp_path):
    from safetensors.numpy import load_file, save_file

    d = write_published(tmp_path / "m")
    t = load_file(str(d / "model.safetensors"))
    t["decoder.layers.3.weight"] = t["decoder.layers.3.weight"][:-1]
    save_file(t, str(d / "model.safetensors"))
    with pytest.raises(ModelError, match=r"model.safetensors: decoder.layers.3.weight has shape"):
        Autoencoder.load(d)


def test_vocab_requires_special_tokens(tmp_path):
    (tmp_path / "vocab.txt").write_text("A\nB\n")
    with pytest.raises(ModelError, match="vocab.txt.*<unk> and <pad>"):
        Vocab.load(tmp_path / "vocab.txt")


@pytest.fixture
def hub_server(tmp_path):
    root = tmp_path / "hub"
    write_published(root / "maayanlab" / "gsfm-tiny" / "resolve" / "main", seed=7)
    handler = partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


def test_hub_download_over_loopback(hub_server, tmp_path, monkeypatch):
    from gsea_plus.model import load_model, predict

    url, root = hub_server
    monkeypatch.setenv("GSEA_PLUS_HUB_URL", url)
    monkeypatch.setenv("GSEA_PLUS_CACHE", str(tmp_path / "cache"))
    model = load_model("maayanlab/gsfm-tiny")
    cached = tmp_path / "cache" / "models" / "maayanlab--gsfm-tiny"
    assert Path(model.source) == cached.resolve()
    for name in ("config.json", "vocab.txt", "model.safetensors"):
        assert (cached / name).read_bytes() == (
            root / "maayanlab" / "gsfm-tiny" / "resolve" / "main" / name
        ).read_bytes()
    assert not list(cached.glob(".*.part"))
    ref = Autoencoder.load(root / "maayanlab" / "gsfm-tiny" / "resolve" / "main")
    np.testing.assert_allclose(model.score([["G1", "G2"]]), ref.score_ids([np.array([3, 4])]))
    df = predict(["G1", "G2", "G3"], top=5, model="maayanlab/gsfm-tiny")
    assert list(df.columns) == ["Rank", "Gene", "Score", "Probability", "In input"]


def test_hub_missing_model_is_a_clear_error(hub_server, tmp_path, monkeypatch):
    from gsea_plus.model import load_model

    url, _ = hub_server
    monkeypatch.setenv("GSEA_PLUS_HUB_URL", url)
    monkeypatch.setenv("GSEA_PLUS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ModelError, match="not found on the hub"):
        load_model("maayanlab/does-not-exist")
