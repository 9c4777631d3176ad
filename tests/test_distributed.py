"""The Dask engine: a real local cluster gives the local engine's results; a clear message
when dask is missing; dask stays out of the import path of everything else."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line

import gsea_plus
from gsea_plus.api import get_engine
from gsea_plus.errors import MissingExtraError


def _random_batch(seed: int = 11):
    rng = np.random.default_rng(seed)
    sets = {
        f"T{i}": [f"G{j}" for j in rng.choice(800, int(rng.integers(2, 120)), replace=False)]
        for i in range(300)
    }
    lists = {
        f"l{i}": [f"G{j}" for j in rng.choice(800, int(rng.integers(1, 150)), replace=False)]
        for i in range(60)
    }
    lists["empty"] = []
    return sets, lists


HUMAN_SETS = {
    "ferro": ["ACSL4", "GPX4", "SLC7A11", "TFRC", "FTH1", "HMOX1", "NCOA4", "SLC3A2"],
    "cycle": ["CDK1", "CCNB1", "CDC20", "PLK1", "BUB1", "AURKA", "CCNA2", "MAD2L1"],
    "p53": ["TP53", "MDM2", "CDKN1A", "BAX", "GADD45A", "ATM", "CHEK2"],
}
HUMAN_LISTS = {"x": ["ACSL4", "GPX4", "CDK1"], "y": ["TP53", "MDM2"], "z": ["PLK1", "AURKA"]}


@pytest.mark.slow
def test_local_cluster_matches_local_engine():
    distributed = pytest.importorskip("dask.distributed")
    from gsea_plus.distributed import DaskEngine

    sets, lists = _random_batch()
    lib = gsea_plus.load_library(sets, name="random")
    local = gsea_plus.enrich_many(lists, library=lib, chunk_size=4, top=25)
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        scatters = []
        real_scatter = client.scatter

        def spy(data, **kwargs):
            scatters.append(kwargs)
            return real_scatter(data, **kwargs)

        client.scatter = spy
        engine = DaskEngine(client=client)
        with distributed.get_task_stream(client) as stream:
            remote = gsea_plus.enrich_many(lists, library=lib, chunk_size=4, top=25, engine=engine)
        # The prepared library went out once, broadcast; chunks ran on both workers.
        assert scatters == [{"broadcast": True, "hash": False}]
        # a second run on the same client (the shared data re-sent under a new key)
        again = gsea_plus.enrich_many(lists, library=lib, chunk_size=4, top=25, engine=engine)
        assert len({t["worker"] for t in stream.data}) == 2
        # model-based batches: the model travels with the shared data, same rows
        model_remote = gsea_plus.enrich_many(
            HUMAN_LISTS, library=HUMAN_SETS, augment=4, chunk_size=1, engine=engine
        )
    model_local = gsea_plus.enrich_many(HUMAN_LISTS, library=HUMAN_SETS, augment=4, chunk_size=1)
    pd.testing.assert_frame_equal(model_local, model_remote, check_exact=True)
    assert model_local["Predicted Overlap"].sum() > 0
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    pd.testing.assert_frame_equal(local, again, check_exact=True)
    assert len(local) > 500 and "empty" not in set(local["List"])


@pytest.mark.slow
def test_worker_errors_reach_the_caller():
    distributed = pytest.importorskip("dask.distributed")
    from gsea_plus.distributed import DaskEngine
    from gsea_plus.errors import InputError

    with (
        distributed.LocalCluster(
            n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        engine = DaskEngine(client=client)
        # a gene list item that is not a string fails in process_chunk, on the worker
        with pytest.raises(InputError, match="list 'bad'"):
            gsea_plus.enrich_many(
                {"ok": ["G1"], "bad": [1, 2]}, library={"T": ["G1"]}, engine=engine
            )


def test_missing_dask_names_the_extra(monkeypatch):
    for name in ("dask", "dask.distributed", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)  # import of these now fails
    monkeypatch.delitem(sys.modules, "gsea_plus.distributed", raising=False)
    with pytest.raises(MissingExtraError, match=r"pip install 'gsea-plus\[dask\]'") as err:
        get_engine("dask")
    assert "--engine dask" in str(err.value)


def test_missing_dask_cli_message(monkeypatch, tmp_path, run_cli):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "dask" or name.startswith(("dask.", "distributed")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for name in ("dask.distributed", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setattr(builtins, "__import__", no_dask)
    lists = tmp_path / "l.gmt"
    lists.write_text("a\t\tG1\tG2\n")
    lib = tmp_path / "lib.gmt"
    lib.write_text("T\t\tG1\tG2\tG3\n")
    out = tmp_path / "out.tsv"
    code, _, err = run_cli("batch", lists, "-l", lib, "--engine", "dask", "-o", out)
    assert_one_error_line(code, err, "gsea-plus[dask]")
    assert not out.exists()


def test_unknown_engine_and_scheduler_without_dask_engine():
    from gsea_plus.errors import InputError

    with pytest.raises(InputError, match="unknown engine"):
        get_engine("spark")
    with pytest.raises(InputError, match="--scheduler needs --engine dask"):
        get_engine("local", scheduler="tcp://127.0.0.1:8786")


def test_batch_module_does_not_import_dask():
    code = (
        "import sys, gsea_plus, gsea_plus.batch, gsea_plus.cli.batch;"
        "gsea_plus.enrich_many({'a': ['G1']}, library={'T': ['G1', 'G2']});"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
