"""The model hub client: checked files, retries, a deadline, unique temp files (10.9, 10.11).

A 200 HTML answer saved as ``model.safetensors`` stayed cached and failed forever; three
concurrent downloads of one model crashed on a shared ``.part`` name; the client waited
61 s on a stalled server with no retry. All against the loopback hub of conftest.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time

import pytest
from conftest import cache_files, subprocess_env
from test_model_network import write_published

from gsea_plus.errors import ModelError, NetworkError
from gsea_plus.model import hub

REPO = "maayanlab/gsfm-tiny"
WEIGHTS = f"{REPO}/resolve/main/model.safetensors"


@pytest.fixture
def published(fake_hub, tmp_path):
    source = write_published(tmp_path / "published", seed=7)
    fake_hub.publish(REPO, source)
    return fake_hub, source


def _model_dir(cache_root):
    return cache_root / "models" / "maayanlab--gsfm-tiny"


def _hidden(cache_root) -> list[str]:
    return [f for f in cache_files(cache_root) if f.rsplit("/", 1)[-1].startswith(".")]


def test_download_checks_and_caches(published, cache_root):
    server, source = published
    target = hub.download(REPO)
    assert target == _model_dir(cache_root)
    for name in hub.HUB_FILES:
        assert (target / name).read_bytes() == (source / name).read_bytes()
        assert hub.check_file(name, target / name) is None
    assert _hidden(cache_root) == []
    hub.download(REPO)  # cached and valid: no request
    assert server.count(WEIGHTS) == 1
    hub.download(REPO, force=True)
    assert server.count(WEIGHTS) == 2


@pytest.mark.parametrize("mode", ["html", "html_plain"])
def test_an_html_answer_is_never_saved_as_the_model(published, cache_root, mode):
    server, _ = published
    server.faults[WEIGHTS] = [mode]
    with pytest.raises(ModelError, match="HTML page"):
        hub.download(REPO)
    assert not (_model_dir(cache_root) / "model.safetensors").exists()
    assert _hidden(cache_root) == []
    assert server.count(WEIGHTS) == 1
    server.faults[WEIGHTS] = ["ok"]  # the hub is back: the next call completes it
    hub.download(REPO)
    assert hub.check_file("model.safetensors", _model_dir(cache_root) / "model.safetensors") is None


def test_an_html_page_cached_by_an_older_version_is_fetched_again(published, cache_root, caplog):
    server, source = published
    target = _model_dir(cache_root)
    target.mkdir(parents=True)
    for name in ("config.json", "vocab.txt"):
        (target / name).write_bytes((source / name).read_bytes())
    (target / "model.safetensors").write_bytes(b"<!DOCTYPE html><html>Sign in</html>")
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        hub.download(REPO)
    assert (target / "model.safetensors").read_bytes() == (
        source / "model.safetensors"
    ).read_bytes()
    assert any("downloading it again" in r.getMessage() for r in caplog.records)
    assert server.count(WEIGHTS) == 1
    assert server.count(f"{REPO}/resolve/main/config.json") == 0


def test_load_model_after_a_bad_cache_works(published, cache_root):
    from gsea_plus.model import load_model

    target = _model_dir(cache_root)
    target.mkdir(parents=True)
    (target / "model.safetensors").write_bytes(b"<html>oops</html>")
    (target / "config.json").write_text("[1, 2]")  # JSON, but not an object
    model = load_model(REPO)
    assert model.score([["G1", "G2"]]).shape[0] == 1


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("config.json", b"{not json", "not valid JSON"),
        ("config.json", b"[]", "not a JSON object"),
        ("vocab.txt", b"\x00\x01binary", "binary"),
        ("vocab.txt", b"<html><body>x</body></html>", "HTML"),
        ("vocab.txt", b"   \n", "empty"),
        ("model.safetensors", b"", "too short"),
        ("model.safetensors", (10**12).to_bytes(8, "little") + b"{}", "bad header length"),
        ("model.safetensors", (5).to_bytes(8, "little") + b"{bad}", "unreadable header"),
        ("model.safetensors", (2).to_bytes(8, "little") + b"[]", "not a JSON object"),
    ],
)
def test_check_file(tmp_path, name, content, why):
    path = tmp_path / name
    path.write_bytes(content)
    assert why in hub.check_file(name, path)


def test_check_file_catches_a_truncated_safetensors(published, tmp_path):
    _, source = published
    whole = (source / "model.safetensors").read_bytes()
    cut = tmp_path / "model.safetensors"
    cut.write_bytes(whole[: len(whole) - 10])
    assert "outside the file" in hub.check_file("model.safetensors", cut)


def test_500s_are_retried(published, cache_root):
    server, _ = published
    server.faults[WEIGHTS] = ["500", "500", "ok"]
    hub.download(REPO)
    assert server.count(WEIGHTS) == 3


def test_a_stall_is_retried_then_fails_within_the_timeouts(published, monkeypatch, cache_root):
    server, _ = published
    monkeypatch.setenv("GSEA_PLUS_TIMEOUT", "0.3")
    server.stall_s = 1.0
    server.faults[WEIGHTS] = ["stall"]
    with pytest.raises(NetworkError, match="timed out"):
        hub.download(REPO)
    assert server.count(WEIGHTS) == 3  # each try timed out (a stall never answers in time)
    assert not (_model_dir(cache_root) / "model.safetensors").exists()


def test_a_drip_is_stopped_by_the_deadline(published, monkeypatch, cache_root):
    server, _ = published
    monkeypatch.setenv("GSEA_PLUS_TIMEOUT", "5")
    monkeypatch.setenv("GSEA_PLUS_DEADLINE", "1")
    server.faults[WEIGHTS] = ["drip"]
    with pytest.raises(NetworkError, match="did not finish within 1 s"):
        hub.download(REPO)
    sent, total = server.drips.wait()
    assert sent < total  # stopped mid-drip by the deadline
    assert not [t for t in threading.enumerate() if t.name == "gsea-plus-download"]
    assert _hidden(cache_root) == []


def test_offline_never_downloads(published, monkeypatch, cache_root):
    server, _ = published
    monkeypatch.setenv("GSEA_PLUS_OFFLINE", "1")
    with pytest.raises(ModelError, match="offline"):
        hub.download(REPO)
    assert server.requests == []


def test_missing_model_is_a_clear_error(published, cache_root):
    with pytest.raises(ModelError, match="not found on the hub"):
        hub.download("maayanlab/nothing-here")
    assert not (cache_root / "models" / "maayanlab--nothing-here").exists()  # no empty folder


_DOWNLOAD = "import sys; from gsea_plus.model.hub import download; print(download(sys.argv[1]))"


def test_three_concurrent_downloads_of_one_model(published, cache_root):
    server, source = published
    server.stall_s = 1.0
    server.faults[WEIGHTS] = ["slow"]  # every writer is mid-download at the same time
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _DOWNLOAD, REPO],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )
        for _ in range(3)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == str(_model_dir(cache_root))
    assert server.count(WEIGHTS) == 3
    target = _model_dir(cache_root)
    assert (target / "model.safetensors").read_bytes() == (
        source / "model.safetensors"
    ).read_bytes()
    assert _hidden(cache_root) == []


def test_stale_fixed_name_part_from_older_versions_is_swept(published, cache_root):
    target = _model_dir(cache_root)
    target.mkdir(parents=True)
    stale = target / ".model.safetensors.part"
    stale.write_bytes(b"x" * 1000)
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    hub.download(REPO)
    assert not stale.exists()
    assert json.loads((target / "config.json").read_text())["d_model"] == 8


def test_a_complete_cached_model_needs_no_writable_cache(published, cache_root, monkeypatch):
    import gsea_plus.library.cache as cache

    hub.download(REPO)
    real = cache.cache_dir

    def read_only(sub=None, *, create=True):
        if create:
            raise AssertionError("asked to create a cache directory")
        return real(sub, create=False)

    def refuse(*args, **kwargs):
        raise AssertionError("wrote to the cache")

    monkeypatch.setattr(cache, "cache_dir", read_only)
    monkeypatch.setattr(cache, "temp_beside", refuse)
    assert hub.download(REPO, offline=True) == _model_dir(cache_root)


def test_cli_model_download_and_refresh(published, cache_root, run_cli):
    server, source = published
    code, _, err = run_cli("model", "download", REPO)
    assert code == 0, err
    assert (_model_dir(cache_root) / "model.safetensors").read_bytes() == (
        source / "model.safetensors"
    ).read_bytes()
    code, _, err = run_cli("model", "download", REPO)  # cached and valid: no request
    assert code == 0 and server.count(WEIGHTS) == 1
    code, _, err = run_cli("model", "download", REPO, "--force")
    assert code == 0 and server.count(WEIGHTS) == 2
    code, _, err = run_cli("model", "download", "owner--x/y")
    assert code == 2 and "Traceback" not in err
