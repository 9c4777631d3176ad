"""The in-memory gene set library: term index, gene index and sparse membership matrix."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from gsea_plus.errors import LibraryError
from gsea_plus.library.gmt import GeneSet

__all__ = ["FORMAT_VERSION", "GeneSetLibrary"]

#: Bumped whenever the binary layout written by :meth:`GeneSetLibrary.save` changes.
FORMAT_VERSION = 1
_SEP = "\n"


class GeneSetLibrary:
    """A gene set library held as a sparse term x gene membership matrix.

    Parameters
    ----------
    name
        Library name (Enrichr name, alias target or file stem).
    terms
        Term names, one per row of ``membership``.
    genes
        The gene universe (sorted, upper-case), one per column.
    membership
        Optional sparse matrix (terms x genes) with a 1 where a gene belongs to a term;
        alternatively pass the raw CSR arrays ``indptr`` and ``indices``.
    descriptions
        Optional per-term description (GMT column 2).
    meta
        Provenance: source, sha256 of the source text, version string.
    """

    def __init__(
        self,
        name: str,
        terms: Sequence[str],
        genes: Sequence[str],
        membership=None,
        descriptions: Sequence[str] | None = None,
        meta: Mapping[str, object] | None = None,
        *,
        indptr: np.ndarray | None = None,
        indices: np.ndarray | None = None,
    ):
        self.name = name
        self.terms = np.asarray(terms, dtype=str)
        self.genes = np.asarray(genes, dtype=str)
        if membership is not None:
            import scipy.sparse as sp

            csr = sp.csr_matrix(membership)
            csr.sum_duplicates()
            csr.sort_indices()
            if csr.shape != (len(self.terms), len(self.genes)):
                raise LibraryError(f"{name}: membership shape does not match terms x genes")
            indptr, indices = csr.indptr, csr.indices
        if indptr is None or indices is None:
            raise LibraryError(f"{name}: no membership given")
        # Raw CSR arrays (terms x genes, column indices sorted within a row); scipy is
        # only imported when a caller asks for `membership`, keeping start-up fast.
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.indices = np.asarray(indices, dtype=np.int64)
        if len(self.indptr) != len(self.terms) + 1 or (
            len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= len(self.genes))
        ):
            raise LibraryError(f"{name}: membership does not match terms x genes")
        self.descriptions = (
            np.asarray(descriptions, dtype=str)
            if descriptions is not None
            else np.full(len(self.terms), "", dtype=str)
        )
        self.meta: dict[str, object] = dict(meta or {})

    # ------------------------------------------------------------------ building
    @classmethod
    def from_gene_sets(
        cls,
        name: str,
        sets: Iterable[GeneSet] | Mapping[str, Iterable[str]],
        meta: Mapping[str, object] | None = None,
    ) -> GeneSetLibrary:
        """Build a library from GMT rows or a ``{term: genes}`` mapping."""
        if isinstance(sets, Mapping):
            rows = [
                GeneSet(str(t), "", tuple(dict.fromkeys(str(g).upper() for g in gs)))
                for t, gs in sets.items()
            ]
        else:
            rows = list(sets)
        rows = [r for r in rows if r.genes]
        if not rows:
            raise LibraryError(f"{name}: the library has no gene sets")
        universe = sorted({g for r in rows for g in r.genes})
        index = {g: i for i, g in enumerate(universe)}
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(r.genes) for r in rows])
        indices = np.fromiter(
            (index[g] for r in rows for g in r.genes), dtype=np.int64, count=int(indptr[-1])
        )
        indices = _sort_within_rows(indptr, indices)
        return cls(
            name,
            [r.term for r in rows],
            universe,
            None,
            [r.description for r in rows],
            meta,
            indptr=indptr,
            indices=indices,
        )

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return len(self.terms)

    def __repr__(self) -> str:
        return f"GeneSetLibrary({self.name!r}, terms={len(self)}, genes={len(self.genes)})"

    @cached_property
    def gene_index(self) -> dict[str, int]:
        """Gene symbol -> column index."""
        return {g: i for i, g in enumerate(self.genes.tolist())}

    @cached_property
    def term_sizes(self) -> np.ndarray:
        """Number of genes in each term."""
        return np.diff(self.indptr)

    @cached_property
    def membership(self):
        """The membership as a ``scipy.sparse.csr_matrix`` (terms x genes, uint8)."""
        import scipy.sparse as sp

        return sp.csr_matrix(
            (np.ones(len(self.indices), dtype=np.uint8), self.indices, self.indptr),
            shape=(len(self.terms), len(self.genes)),
        )

    @cached_property
    def gene_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """Column-compressed membership ``(indptr, term indices)``: the terms of each gene."""
        rows = np.repeat(np.arange(len(self.terms), dtype=np.int64), self.term_sizes)
        idx = self.indices
        if len(self.genes) <= np.iinfo(np.uint16).max:
            idx = idx.astype(np.uint16)  # numpy's stable sort of 16-bit ints is a radix sort
        order = np.argsort(idx, kind="stable")
        indptr = np.zeros(len(self.genes) + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.indices, minlength=len(self.genes)), out=indptr[1:])
        return indptr, rows[order]

    def term_genes(self, i: int) -> list[str]:
        """The genes of term ``i``."""
        start, stop = self.indptr[i], self.indptr[i + 1]
        return self.genes[self.indices[start:stop]].tolist()

    def to_dict(self) -> dict[str, list[str]]:
        """``{term: genes}`` (later duplicates of a term name overwrite earlier ones)."""
        return {t: self.term_genes(i) for i, t in enumerate(self.terms.tolist())}

    def gene_sets(self) -> list[GeneSet]:
        """The library as GMT rows."""
        return [
            GeneSet(t, d, tuple(self.term_genes(i)))
            for i, (t, d) in enumerate(
                zip(self.terms.tolist(), self.descriptions.tolist(), strict=True)
            )
        ]

    @property
    def version(self) -> str:
        """A short identifier of the library content (name and sha256 prefix)."""
        sha = str(self.meta.get("sha256", ""))
        return f"{self.name}@{sha[:12]}" if sha else self.name

    def restrict(self, genes: Iterable[str]) -> GeneSetLibrary:
        """A copy with every term intersected with ``genes`` (empty terms kept, size 0)."""
        keep = np.zeros(len(self.genes), dtype=bool)
        idx = self.gene_index
        for g in genes:
            j = idx.get(g)
            if j is not None:
                keep[j] = True
        remap = np.cumsum(keep) - 1
        entry_keep = keep[self.indices]
        rows = np.repeat(np.arange(len(self.terms), dtype=np.int64), self.term_sizes)
        indptr = np.zeros(len(self.terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows[entry_keep], minlength=len(self.terms)), out=indptr[1:])
        return GeneSetLibrary(
            self.name,
            self.terms,
            self.genes[keep],
            None,
            self.descriptions,
            self.meta,
            indptr=indptr,
            indices=remap[self.indices[entry_keep]],
        )

    # ------------------------------------------------------------------ binary form
    def save(self, path: str | Path) -> None:
        """Write the parsed library as ``.npz`` (no pickled objects), atomically.

        Raises
        ------
        CacheError
            The file cannot be written.
        """
        from gsea_plus.library.cache import atomic_write

        atomic_write(Path(path), self.npz_bytes())

    def npz_bytes(self) -> bytes:
        """The ``.npz`` bytes :meth:`save` writes."""
        return _npz_bytes(
            indptr=self.indptr.astype(np.int64),
            indices=self.indices.astype(np.int32),
            genes=np.array(_SEP.join(self.genes.tolist())),
            terms=np.array(_SEP.join(self.terms.tolist())),
            descriptions=np.array(_SEP.join(self.descriptions.tolist())),
            meta=np.array(json.dumps({"name": self.name, "format": FORMAT_VERSION, **self.meta})),
        )

    @classmethod
    def load(cls, path: str | Path) -> GeneSetLibrary:
        """Read a library written by :meth:`save`; never unpickles."""
        import zipfile

        path = Path(path)
        try:
            # Open the file ourselves: np.load leaks its handle when a zip is corrupt.
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if not isinstance(meta, dict):
                    raise LibraryError(f"{path}: corrupt cached library (bad metadata)")
                if meta.get("format") != FORMAT_VERSION:
                    raise LibraryError(f"{path}: cached library has an old format")
                genes = _split(str(z["genes"]))
                terms = _split(str(z["terms"]))
                descriptions = _split(str(z["descriptions"]), len(terms))
                indptr = z["indptr"]
                indices = z["indices"]
        except LibraryError:
            raise
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise LibraryError(f"{path}: corrupt cached library ({exc})") from exc
        name = str(meta.pop("name", path.stem))
        meta.pop("format", None)
        return cls(name, terms, genes, None, descriptions, meta, indptr=indptr, indices=indices)


def _sort_within_rows(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    rows = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    return indices[np.lexsort((indices, rows))]


def _split(joined: str, n: int | None = None) -> list[str]:
    if joined == "" and n is not None:
        return [""] * n
    return joined.split(_SEP) if joined else []


def _npz_bytes(**arrays: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
