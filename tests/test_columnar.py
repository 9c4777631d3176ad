"""Encoded result tables: the same rows, the same TSV/CSV bytes, the same Parquet values.

The reference for the text is the writer that built one Python string per cell
(:func:`_reference_text`, the batch writer before encoded tables) and
:func:`gsea_plus.output.frame_to_bytes`: floats as ``repr``, genes in library order.
"""

from __future__ import annotations

import csv
import io
import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import BENCHMARK, TINY_SETS, requires_shared

import gsea_plus
from gsea_plus import columnar, engine
from gsea_plus.api import iter_enrich_many
from gsea_plus.batch import ResultWriter, text_bytes
from gsea_plus.columnar import Codes, Pairs, Ragged, ResultTable
from gsea_plus.library import GeneSetLibrary, load_library
from gsea_plus.output import frame_to_bytes

BACKENDS = ["numpy", "arrow"]


def _reference_text(table, fmt: str, *, header: bool) -> bytes:
    """The batch writer's text before encoded tables: ``str`` of every Python cell, NaN empty."""
    names = list(table)
    cells = [
        ["" if isinstance(v, float) and v != v else str(v) for v in np.asarray(table[c]).tolist()]
        for c in names
    ]
    rows = zip(*cells, strict=True)
    if fmt == "tsv":
        lines = ["\t".join(names)] if header else []
        lines.extend(map("\t".join, rows))
        return ("\n".join(lines) + "\n").encode() if lines else b""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(names)
    writer.writerows(rows)
    return buf.getvalue().encode()


def _batch_table(lists, library, **kw) -> ResultTable:
    (result,) = list(iter_enrich_many(lists, library=library, chunk_size=len(lists), **kw))
    assert isinstance(result.table, ResultTable)
    return result.table


@pytest.fixture(scope="module")
def sample():
    """A batch of 25 lists against KEGG and GO BP: all rows, encoded."""
    kegg = BENCHMARK / "KEGG_2021_Human.gmt"
    gobp = BENCHMARK / "GO_Biological_Process_2023.gmt"
    if not kegg.is_file():
        pytest.skip(f"shared data not found at {kegg}")
    lib = load_library(kegg)
    rng = np.random.default_rng(3)
    lists = {}
    for i in range(25):
        picked = rng.choice(len(lib.genes), int(rng.integers(1, 250)), replace=False)
        lists[f'L{i},"{i}"'] = lib.genes[picked].tolist()  # a name CSV must quote
    return lists, [kegg, gobp]


@requires_shared
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fmt", ["tsv", "csv"])
def test_text_bytes_equal_the_per_cell_writer(sample, backend, fmt):
    lists, libraries = sample
    for library in (libraries[1], libraries):  # one library; two, merged per list
        table = _batch_table(lists, library)
        plain = {c: table[c] for c in table}
        expected = _reference_text(plain, fmt, header=True)
        assert expected == frame_to_bytes(plain, fmt)
        got = b"".join(columnar.text_bytes(table, fmt, header=True, backend=backend))
        assert got == expected
        body = b"".join(columnar.text_bytes(table, fmt, header=False, backend=backend))
        assert body == expected.split(b"\n", 1)[1]
        # a plain table (no codes) takes the dedupe path: the same bytes
        assert text_bytes(plain, fmt, header=True, backend=backend) == expected


@requires_shared
def test_encoded_table_reads_as_result_columns(sample):
    lists, libraries = sample
    lib = engine.prepare(load_library(libraries[0]))
    gene_lists = [gsea_plus.read_gene_list(g) for g in lists.values()]
    matches = engine.match_lists(lib, gene_lists, list(lists))
    scores = engine.score_lists(lib, matches)
    sel = scores.order
    owner = scores.list_idx[sel]
    cols = [m.columns for m in matches]
    plain = engine.result_columns(lib, scores, sel, cols, owner)
    encoded = engine.result_table(lib, scores, sel, cols, owner)
    # the same table without the per-table codes (evidence code builds Scores this way)
    scores.tables = None
    generic = engine.result_table(lib, scores, sel, cols, owner)
    assert list(encoded) == list(plain) == engine.COLUMNS
    for table in (encoded, generic):
        for c in plain:
            got = table[c]
            assert got.dtype == plain[c].dtype, c
            np.testing.assert_array_equal(got, plain[c], err_msg=c)
    assert isinstance(encoded.raw("P-value"), Codes) and isinstance(generic.raw("Overlap"), Pairs)
    # gene strings as the engine's public helper builds them
    assert plain["Genes"].tolist() == engine.overlap_genes_many(
        lib, cols, owner, scores.term_idx[sel]
    )


def _ragged(values, runs):
    offsets = np.cumsum([0] + [len(r) for r in runs])
    return Ragged(np.array(values), np.array([c for r in runs for c in r], dtype=np.int64), offsets)


def test_take_concat_and_pickle_keep_the_rows():
    genes = ["A", "BB", "C,D", 'E"']
    t1 = ResultTable(
        {
            "Term": Codes(np.array(["t0", "t1", "t2"]), np.array([2, 0, 1])),
            "Overlap": Pairs(np.array([1, 2, 3]), np.array([5, 6, 7])),
            "Genes": _ragged(genes, [[0], [1, 3], []]),
            "X": np.array([0.5, -0.0, 1e16]),
        },
        3,
    )
    t2 = ResultTable(
        {
            "Term": Codes(np.array(["u0", "u1"], dtype=object), np.array([1, 1])),
            "Overlap": Pairs(np.array([4, 5]), np.array([8, 9])),
            "Genes": _ragged(["Z", "Y"], [[1, 0], [0]]),
            "X": np.array([np.nan, 2.0]),
        },
        2,
    )

    def plain(t):
        return {c: t[c].tolist() for c in t}

    both = ResultTable.concat([t1, t2])
    assert both.rows == 5
    expected = {c: plain(t1)[c] + plain(t2)[c] for c in t1}
    got = plain(both)
    assert got["Genes"] == ["A", 'BB;E"', "", "Y;Z", "Z"]
    assert str(got) == str(expected)  # NaN-safe comparison
    order = np.array([4, 0, 2])
    taken = both.take(order)
    assert str(plain(taken)) == str({c: [expected[c][i] for i in order] for c in expected})
    again = pickle.loads(pickle.dumps(taken))
    assert str(plain(again)) == str(plain(taken))
    for backend in BACKENDS:
        for fmt in ("tsv", "csv"):
            text = text_bytes(both, fmt, header=True, backend=backend)
            assert text == _reference_text(both, fmt, header=True) == frame_to_bytes(both, fmt)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_cell_kind_is_written_like_frame_to_bytes(backend):
    floats = np.array(
        [0.1, 1e-5, 1e-4, 1e16, 9999999999999998.0, 1.0, -0.0, 0.0, 5e-324, np.inf, -np.inf]
        + [np.nan, 1.7976931348623157e308, 123456789.125, 2.5e-300]
    )
    n = len(floats)
    table = {
        "f64": floats,
        "f32": np.array([0.1, 1e-5, -0.0, 3.4e38, 7.0] * 3, dtype=np.float32),
        "i64": np.arange(n, dtype=np.int64) * -7 + 3,
        "u8": np.arange(n, dtype=np.uint8),
        "u64": np.arange(n, dtype=np.uint64) + np.uint64(2**63),
        "bool": np.arange(n) % 3 == 0,
        "text": np.array(
            ["plain", "a,b", 'q"x', "tab\there", "cr\rlf", "é ünï", "", "😀", "x"] + ["y"] * 6,
            dtype=object,
        ),
        "unicode": np.array(["u"] * (n - 1) + ["Ω"]),
    }
    for fmt in ("tsv", "csv"):
        got = text_bytes(table, fmt, header=True, backend=backend)
        assert got == frame_to_bytes(table, fmt) == _reference_text(table, fmt, header=True)


@pytest.mark.parametrize("background", [False, True])
def test_writer_formats_in_order_with_or_without_a_thread(tmp_path, background):
    lib = GeneSetLibrary.from_gene_sets("tiny", TINY_SETS)
    lists = {f"l{i}": [f"G{j}" for j in range(1, i + 3)] for i in range(9)}
    results = list(iter_enrich_many(lists, library=lib, chunk_size=2))
    path = tmp_path / "out.tsv"
    with ResultWriter(path, "tsv", background=background) as writer:
        for r in results:
            writer.write(r.table)
    frame = gsea_plus.enrich_many(lists, library=lib)
    assert path.read_bytes() == frame_to_bytes(frame, "tsv")
    assert writer.rows == len(frame)
    pq = tmp_path / "out.parquet"
    with ResultWriter(pq, "parquet", background=background) as writer:
        for r in results:
            writer.write(r.table)
    back = pd.read_parquet(pq)
    pd.testing.assert_frame_equal(back, frame, check_exact=True, check_dtype=False)
    assert back.dtypes.astype(str).tolist() == frame.dtypes.astype(str).tolist()


def test_an_error_in_the_writing_thread_reaches_the_caller(tmp_path, monkeypatch):
    lib = GeneSetLibrary.from_gene_sets("tiny", TINY_SETS)
    results = list(iter_enrich_many({"a": ["G1", "G2"], "b": ["G3"]}, library=lib, chunk_size=1))

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")
        yield b""  # pragma: no cover

    monkeypatch.setattr(columnar, "text_bytes", full_disk)
    path = tmp_path / "out.tsv"
    with pytest.raises(OSError, match="No space"):
        with ResultWriter(path, "tsv", background=True) as writer:
            for r in results:
                writer.write(r.table)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def _reference_frame_to_bytes(table, fmt: str) -> bytes:
    """frame_to_bytes before it used the bulk writer: _cell() of every Python value.

    A missing value (None: a row with no cluster) is an empty cell, not the text "None".
    """

    def cell(value):
        if value is None:
            return ""
        return repr(value) if isinstance(value, float) else str(value)

    cols = {str(c): (v.tolist() if hasattr(v, "tolist") else list(v)) for c, v in table.items()}
    rows = list(zip(*cols.values(), strict=True))
    if fmt == "tsv":
        lines = ["\t".join(cols)] + ["\t".join(cell(v) for v in row) for row in rows]
        return ("\n".join(lines) + "\n").encode()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(cols))
    writer.writerows([cell(v) for v in row] for row in rows)
    return buf.getvalue().encode()


def test_frame_to_bytes_of_a_mapping_is_unchanged():
    table = {
        "name": ["a", "b,c", 'd"e'],  # a list, not an array
        "mixed": np.array([1, 1.0, True], dtype=object),  # equal as keys, not as text
        "numpy scalars": np.array([np.float64(0.1), np.int64(3), None], dtype=object),
        "f": np.array([0.1, -0.0, 1e-7]),
        "i": [1, 2, 3],
    }
    for fmt in ("tsv", "csv"):
        assert frame_to_bytes(table, fmt) == _reference_frame_to_bytes(table, fmt)
    empty = {"a": np.zeros(0), "b": []}
    assert frame_to_bytes(empty, "tsv") == _reference_frame_to_bytes(empty, "tsv")
