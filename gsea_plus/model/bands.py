"""Genomic neighbourhood: genes in the same cytogenetic band as an input gene.

Trait gene sets (GWAS catalogs) list the genes around each associated locus, so a
gene next to an input gene is more likely to belong to the same trait list. This part
scores every gene by the number of input genes in its cytogenetic band (for example
``19q13.43``), read from NCBI ``gene_info`` (``map_location``). It knows nothing of
function: in a blend its weight is small, and ``predict`` names it so that a user can
see when a prediction rests on position alone.

Storage: ``bands.txt``, one ``SYMBOL<TAB>BAND`` line per placed gene.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from gsea_plus.errors import InputError, ModelError

__all__ = ["BANDS_FILE", "BandScorer", "read_gene_info_bands"]

BANDS_FILE = "bands.txt"


def read_gene_info_bands(path: str | Path, *, mapper=None) -> dict[str, str]:
    """Symbol -> cytogenetic band from an NCBI ``gene_info`` table (gzipped or not).

    Genes with no band, or with several (``a|b``), are left out; symbols go through
    ``mapper.normalize`` (a :class:`~gsea_plus.genes.SymbolMapper`) when given. The
    first gene_info row of a symbol wins.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    out: dict[str, str] = {}
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            header = fh.readline().lstrip("#").rstrip("\n").split("\t")
            try:
                sym_col, loc_col = header.index("Symbol"), header.index("map_location")
            except ValueError as exc:
                raise InputError(f"{path}: expected Symbol and map_location columns") from exc
            for line in fh:
                f = line.rstrip("\n").split("\t")
                if len(f) <= max(sym_col, loc_col):
                    continue
                band = f[loc_col].strip()
                if not band or band == "-" or "|" in band:
                    continue
                symbol = f[sym_col].strip().upper()
                if mapper is not None:
                    symbol = mapper.normalize(symbol)
                out.setdefault(symbol, band)
    except OSError as exc:
        raise InputError(f"{path}: cannot read gene_info ({exc})") from exc
    return out


class BandScorer:
    """Counts the input genes in each gene's cytogenetic band.

    Parameters
    ----------
    vocab
        The genes scored.
    bands
        Symbol -> band; genes without a band score 0.
    """

    name = "band"

    def __init__(self, vocab: Sequence[str] | np.ndarray, bands: dict[str, str]):
        self.vocab = np.asarray(vocab, dtype=str)
        names: dict[str, int] = {}
        band_of = np.full(len(self.vocab), -1, dtype=np.int64)
        for i, g in enumerate(self.vocab.tolist()):
            b = bands.get(g)
            if b is not None:
                band_of[i] = names.setdefault(b, len(names))
        self.bands = bands
        placed = np.flatnonzero(band_of >= 0)
        self.membership = sp.csr_matrix(
            (np.ones(len(placed), dtype=np.float32), (placed, band_of[placed])),
            shape=(len(self.vocab), max(len(names), 1)),
        )
        self.n_placed = len(placed)

    @classmethod
    def load(cls, path: str | Path, vocab: Sequence[str] | np.ndarray) -> BandScorer:
        """Read ``bands.txt``."""
        path = Path(path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ModelError(f"{path}: cannot read the gene bands ({exc})") from exc
        bands = {}
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 2:
                raise ModelError(f"{path}:{n}: expected SYMBOL<TAB>BAND")
            bands[parts[0]] = parts[1]
        return cls(vocab, bands)

    def save(self, path: str | Path) -> None:
        """Write ``bands.txt`` for the vocabulary's placed genes."""
        from gsea_plus.library.cache import atomic_write

        rows = [f"{g}\t{self.bands[g]}" for g in self.vocab.tolist() if g in self.bands]
        atomic_write(Path(path), ("\n".join(rows) + "\n").encode())

    def score_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Input genes in each gene's band (n x genes)."""
        from gsea_plus.model.scorers import multi_hot

        q = multi_hot(list(ids), len(self.vocab))
        return np.asarray(((q @ self.membership) @ self.membership.T).todense(), np.float32)

    def encode_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Bands have no set encoding."""
        raise ModelError("the band scorer has no set encoding")
