"""The in-memory gene set library: term index, gene index and sparse membership matrix.

The parsed form on disk (:meth:`GeneSetLibrary.save`) is an uncompressed ``.npz`` (a zip
of ``.npy`` arrays, never pickled) laid out so that every array starts on a 64-byte
boundary: :meth:`GeneSetLibrary.load` memory-maps the membership arrays read-only
instead of reading them, so a library of half a million sets opens in milliseconds and
only the pages a query touches are read. Term names, descriptions and genes are stored
as UTF-8 bytes and decoded when first used. Files are replaced by rename, so a reader's
mapping keeps the old file's inode while a concurrent writer replaces it.

Format 2 adds the column-compressed membership (the terms of each gene) and stores the
strings as bytes; format-1 files (joined ``<U`` strings, read whole) are still read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import numpy as np

from gsea_plus.errors import LibraryError
from gsea_plus.library.gmt import GeneSet, ParsedGmt

__all__ = ["FORMAT_VERSION", "GeneSetLibrary"]

#: Bumped whenever the binary layout written by :meth:`GeneSetLibrary.save` changes.
FORMAT_VERSION = 2
#: Formats :meth:`GeneSetLibrary.load` reads.
READABLE_FORMATS = (1, 2)
_SEP = "\n"
#: Array members start at multiples of this many bytes in a saved file (mmap alignment).
_ALIGN = 64
#: dtypes a saved array may have (anything else is a corrupt or foreign file).
_DTYPES = {np.dtype(t) for t in ("<i8", "<i4", "|u1")}


def _object_strings(values: Iterable[Any], *, trusted: bool = False) -> np.ndarray:
    """An object array of ``str`` (not ``<U``: fixed width costs 4 bytes x longest name).

    ``trusted``: the values are known to be ``str`` already (no per-item check).
    """
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    out = np.empty(len(items), dtype=object)
    out[:] = items if trusted else [v if type(v) is str else str(v) for v in items]
    return out


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

    Attributes
    ----------
    terms, descriptions
        Object arrays of ``str`` (decoded on first use for a library loaded from disk).
    genes
        A ``<U`` array of the gene symbols.
    indptr, indices
        The CSR membership (``indices`` is 64- or 32-bit; read-only when memory-mapped).
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
        term_array = _object_strings(terms)
        self.genes = np.asarray(genes, dtype=str)
        if membership is not None:
            import scipy.sparse as sp

            csr = sp.csr_matrix(membership)
            csr.sum_duplicates()
            csr.sort_indices()
            if csr.shape != (len(term_array), len(self.genes)):
                raise LibraryError(f"{name}: membership shape does not match terms x genes")
            indptr, indices = csr.indptr, csr.indices
        if indptr is None or indices is None:
            raise LibraryError(f"{name}: no membership given")
        # Raw CSR arrays (terms x genes, column indices sorted within a row); scipy is
        # only imported when a caller asks for `membership`, keeping start-up fast.
        self.indptr = np.asarray(indptr, dtype=np.int64)
        indices = np.asarray(indices)
        if indices.dtype not in (np.int64, np.int32):
            indices = indices.astype(np.int64)
        self.indices = indices
        if len(self.indptr) != len(term_array) + 1 or (
            len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= len(self.genes))
        ):
            raise LibraryError(f"{name}: membership does not match terms x genes")
        self._terms: np.ndarray | None = term_array
        self._descriptions: np.ndarray | None = (
            _object_strings(descriptions) if descriptions is not None else None
        )
        self._text: dict[str, Callable[[], np.ndarray]] = {}
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

    @classmethod
    def from_parsed(
        cls, name: str, parsed: ParsedGmt, meta: Mapping[str, object] | None = None
    ) -> GeneSetLibrary:
        """Build a library from :func:`~gsea_plus.library.gmt.parse_gmt_stream` output.

        The same library as :meth:`from_gene_sets` on the same rows, built from integer
        arrays: the gene universe is sorted once and the ids are remapped. ``parsed``
        gives up its gene ids (to halve the peak memory of a large library).
        """
        if not parsed.terms:
            raise LibraryError(f"{name}: the library has no gene sets")
        first_seen = parsed.genes
        order = sorted(range(len(first_seen)), key=first_seen.__getitem__)
        genes = np.asarray([first_seen[i] for i in order], dtype=str)
        itype = np.int32 if len(genes) < 2**31 else np.int64
        remap = np.empty(len(order), dtype=itype)
        remap[np.asarray(order, dtype=np.int64)] = np.arange(len(order), dtype=itype)
        indptr = np.frombuffer(parsed.indptr, dtype=np.int64).copy()
        indices = remap[np.frombuffer(parsed.gene_ids, dtype=np.int32)]
        parsed.gene_ids = array("i")  # consumed: ~4 bytes per membership freed now
        indices = _sort_within_rows(indptr, indices, out=indices)
        return cls._trusted(
            name,
            genes=genes,
            indptr=indptr,
            indices=indices,
            terms=_object_strings(parsed.terms, trusted=True),
            descriptions=_object_strings(parsed.descriptions, trusted=True),
            meta=dict(meta or {}),
        )

    @classmethod
    def _trusted(
        cls,
        name: str,
        *,
        genes: np.ndarray,
        indptr: np.ndarray,
        indices: np.ndarray,
        terms: np.ndarray | Callable[[], np.ndarray],
        descriptions: np.ndarray | Callable[[], np.ndarray] | None,
        meta: Mapping[str, object],
        gene_terms: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> GeneSetLibrary:
        """A library from arrays already checked (a parse, or a saved file's structure).

        ``terms`` and ``descriptions`` may be functions that decode them on first use.
        """
        lib = cls.__new__(cls)
        lib.name = name
        lib.genes = genes
        lib.indptr = indptr
        lib.indices = indices
        lib._text = {}
        lib._terms = None
        lib._descriptions = None
        if callable(terms):
            lib._text["terms"] = terms
        else:
            lib._terms = terms
        if callable(descriptions):
            lib._text["descriptions"] = descriptions
        else:
            lib._descriptions = descriptions
        lib.meta = dict(meta)
        if gene_terms is not None:
            lib.__dict__["gene_terms"] = gene_terms
        return lib

    # ------------------------------------------------------------------ views
    @property
    def terms(self) -> np.ndarray:
        """Term names (an object array of ``str``)."""
        if self._terms is None:
            self._terms = self._text.pop("terms")()
        return self._terms

    @terms.setter
    def terms(self, values: Sequence[str]) -> None:
        self._terms = _object_strings(values)

    @property
    def descriptions(self) -> np.ndarray:
        """Per-term descriptions (an object array of ``str``, ``""`` where none)."""
        if self._descriptions is None:
            load = self._text.pop("descriptions", None)
            self._descriptions = (
                load() if load is not None else np.full(len(self), "", dtype=object)
            )
        return self._descriptions

    @descriptions.setter
    def descriptions(self, values: Sequence[str]) -> None:
        self._descriptions = _object_strings(values)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def __repr__(self) -> str:
        return f"GeneSetLibrary({self.name!r}, terms={len(self)}, genes={len(self.genes)})"

    @cached_property
    def gene_names(self) -> np.ndarray:
        """:attr:`genes` as an object array (gathering objects is cheaper than ``<U``)."""
        return self.genes.astype(object)

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
            shape=(len(self), len(self.genes)),
        )

    @cached_property
    def gene_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """Column-compressed membership ``(indptr, term indices)``: the terms of each gene.

        Each gene's terms are in ascending order. Saved with the library (format 2), so
        a loaded library maps it instead of sorting every (term, gene) pair again.
        """
        return _gene_terms(self.indptr, self.indices, len(self.genes))

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
        rows = np.repeat(np.arange(len(self), dtype=np.int64), self.term_sizes)
        indptr = np.zeros(len(self) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows[entry_keep], minlength=len(self)), out=indptr[1:])
        return GeneSetLibrary(
            self.name,
            self.terms,  # type: ignore[arg-type]  # arrays of str
            self.genes[keep],  # type: ignore[arg-type]
            None,
            self.descriptions,  # type: ignore[arg-type]
            self.meta,
            indptr=indptr,
            indices=remap[self.indices[entry_keep]],
        )

    # ------------------------------------------------------------------ binary form
    def save(self, path: str | Path) -> None:
        """Write the parsed library (format 2, no pickled objects), atomically.

        The arrays are streamed to a temp file beside ``path``, which is then renamed
        onto it: a reader never sees a half-written file, and a concurrent reader that
        mapped the old file keeps reading it.

        Raises
        ------
        CacheError
            The file cannot be written.
        """
        from gsea_plus.errors import CacheError
        from gsea_plus.files import atomic_write

        atomic_write(Path(path), self._write, error=CacheError)

    def npz_bytes(self) -> bytes:
        """The bytes :meth:`save` writes."""
        buf = io.BytesIO()
        self._write(buf)
        return buf.getvalue()

    def _write(self, fh: IO[bytes]) -> None:
        col_ptr, col_terms = self.gene_terms
        small = len(self.genes) < 2**31 and len(self) < 2**31
        itype = np.int32 if small else np.int64
        meta = {"name": self.name, "format": FORMAT_VERSION, **self.meta}
        arrays: dict[str, Any] = {
            "meta": _utf8(json.dumps(meta)),
            "indptr": self.indptr.astype(np.int64, copy=False),
            "indices": self.indices.astype(itype, copy=False),
            "gene_ptr": col_ptr.astype(np.int64, copy=False),
            "gene_terms": col_terms.astype(itype, copy=False),
            "genes": _utf8(_SEP.join(self.genes.tolist())),
            "terms": _utf8(_SEP.join(self.terms.tolist())),
            "descriptions": _utf8(_SEP.join(self.descriptions.tolist())),
        }
        _write_aligned_npz(fh, arrays)

    @classmethod
    def load(cls, path: str | Path) -> GeneSetLibrary:
        """Read a library written by :meth:`save` (format 1 or 2); never unpickles.

        Format 2 is memory-mapped (read-only arrays); format 1 is read whole.

        Raises
        ------
        LibraryError
            A missing, foreign, corrupt or truncated file (the caller rebuilds it).
        """
        import zipfile

        path = Path(path)
        try:
            with open(path, "rb") as fh:
                head = fh.read(4)
                if head != b"PK\x03\x04":
                    raise LibraryError(f"{path}: corrupt cached library (not an npz file)")
                members = _npz_members(fh, path)
        except LibraryError:
            raise
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise LibraryError(f"{path}: corrupt cached library ({exc})") from exc
        if "gene_ptr" not in members:
            return _load_v1(cls, path)
        return _load_v2(cls, path, members)


# --------------------------------------------------------------------------- helpers


def _utf8(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)


def _decode(data: np.ndarray) -> str:
    return data.tobytes().decode("utf-8", "surrogatepass")


def _split(joined: str, n: int | None = None) -> list[str]:
    if joined == "" and n is not None:
        return [""] * n
    return joined.split(_SEP) if joined else []


def _sort_within_rows(
    indptr: np.ndarray, indices: np.ndarray, *, out: np.ndarray | None = None
) -> np.ndarray:
    """Column indices sorted within each row, in blocks of rows (bounded memory).

    ``out`` may be ``indices`` itself (sorted in place, block by block).
    """
    n_cols = int(indices.max(initial=-1)) + 1
    if out is None:
        out = np.empty_like(indices)
    n_rows = len(indptr) - 1
    step = max(1, (1 << 22) // max(int(indptr[-1]) // max(n_rows, 1), 1))
    for lo in range(0, n_rows, step):
        hi = min(n_rows, lo + step)
        a, b = int(indptr[lo]), int(indptr[hi])
        rows = np.repeat(np.arange(hi - lo, dtype=np.int64), np.diff(indptr[lo : hi + 1]))
        out[a:b] = np.sort(rows * n_cols + indices[a:b]) % max(n_cols, 1)
    return out


def stable_order(keys: np.ndarray, bound: int) -> np.ndarray:
    """``argsort(keys, kind="stable")`` for keys in ``[0, bound)``, by 16-bit radix passes.

    numpy's stable sort of 16-bit integers is a radix sort; wider keys take one pass per
    16 bits (least significant first), each stable, so the order is the same.
    """
    if bound <= 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    shift = 16
    while bound > 1 << shift:
        digit = ((keys[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
    return order


def _gene_terms(
    indptr: np.ndarray, indices: np.ndarray, n_genes: int
) -> tuple[np.ndarray, np.ndarray]:
    """The column-compressed form of a CSR membership, terms ascending within a gene."""
    n_terms = len(indptr) - 1
    counts = np.bincount(indices, minlength=n_genes)
    col_ptr = np.zeros(n_genes + 1, dtype=np.int64)
    np.cumsum(counts, out=col_ptr[1:])
    itype = np.int32 if n_terms < 2**31 else np.int64
    col_terms = np.empty(len(indices), dtype=itype)
    fill = col_ptr[:-1].copy()
    # Blocks of terms in order: each gene's terms come out ascending. Within a block, a
    # stable sort by gene gives every entry its rank among the block's entries of a gene.
    step = max(1, (1 << 22) // max(len(indices) // max(n_terms, 1), 1))
    for lo in range(0, n_terms, step):
        hi = min(n_terms, lo + step)
        a, b = int(indptr[lo]), int(indptr[hi])
        genes = np.asarray(indices[a:b], dtype=np.int64)
        rows = np.repeat(np.arange(lo, hi, dtype=itype), np.diff(indptr[lo : hi + 1]))
        order = stable_order(genes, n_genes)
        g = genes[order]
        first = np.ones(len(g), dtype=bool)
        first[1:] = g[1:] != g[:-1]
        starts = np.flatnonzero(first)
        rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.append(starts, len(g))))
        col_terms[fill[g] + rank] = rows[order]
        fill += np.bincount(genes, minlength=n_genes)
    return col_ptr, col_terms


def _write_aligned_npz(fh: IO[bytes], arrays: Mapping[str, np.ndarray]) -> None:
    """An uncompressed ``.npz`` whose array data start at multiples of :data:`_ALIGN`.

    Each member is a ``.npy`` file (its header padded to 64 bytes by numpy); padding in
    the zip local header's extra field moves the member to an aligned offset.
    """
    import zipfile

    from numpy.lib import format as npformat

    with zipfile.ZipFile(fh, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            array = np.ascontiguousarray(array)
            header = io.BytesIO()
            npformat.write_array_header_2_0(header, npformat.header_data_from_array_1_0(array))
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            nbytes = header.tell() + array.nbytes
            large = nbytes * 1.05 > zipfile.ZIP64_LIMIT  # when zipfile adds zip64 sizes
            # local header: 30 bytes + name + extra (+ 20 bytes of zip64 sizes if large)
            offset = fh.tell() + 30 + len(info.filename) + (20 if large else 0)
            pad = (-(offset + 4 + header.tell())) % _ALIGN
            info.extra = (0xCAFE).to_bytes(2, "little") + pad.to_bytes(2, "little") + b"\0" * pad
            info.file_size = nbytes
            with zf.open(info, mode="w", force_zip64=large) as out:
                out.write(header.getvalue())
                _write_array(out, array)


def _write_array(out: IO[bytes], array: np.ndarray) -> None:
    flat = array.reshape(-1).view(np.uint8)
    step = 1 << 24
    for lo in range(0, len(flat), step):
        out.write(flat[lo : lo + step].data)


def _npz_members(fh: IO[bytes], path: Path) -> dict[str, tuple[np.dtype, tuple, int]]:
    """Per ``.npy`` member of an uncompressed zip: dtype, shape, data offset in the file."""
    import zipfile

    from numpy.lib import format as npformat

    members: dict[str, tuple[np.dtype, tuple, int]] = {}
    size = os.fstat(fh.fileno()).st_size if hasattr(fh, "fileno") else None
    with zipfile.ZipFile(fh) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue
            if info.compress_type != zipfile.ZIP_STORED:
                members[info.filename[:-4]] = (np.dtype("O"), (), -1)  # format 1 (savez)
                continue
            fh.seek(info.header_offset)
            local = fh.read(30)
            if local[:4] != b"PK\x03\x04":
                raise LibraryError(f"{path}: corrupt cached library (bad member header)")
            name_len = int.from_bytes(local[26:28], "little")
            extra_len = int.from_bytes(local[28:30], "little")
            start = info.header_offset + 30 + name_len + extra_len
            fh.seek(start)
            version = npformat.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = npformat.read_array_header_1_0(fh)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = npformat.read_array_header_2_0(fh)
            else:  # pragma: no cover - numpy writes only these
                raise LibraryError(f"{path}: corrupt cached library (npy version {version})")
            data = fh.tell()
            if fortran or dtype.hasobject:
                raise LibraryError(f"{path}: corrupt cached library (object or Fortran array)")
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if data + nbytes - start != info.file_size or (
                size is not None and data + nbytes > size
            ):
                raise LibraryError(f"{path}: corrupt cached library (truncated {info.filename})")
            members[info.filename[:-4]] = (dtype, shape, data)
    return members


def _map(path: Path, members: dict, name: str, dtype: np.dtype | None = None) -> np.ndarray:
    """A member as a read-only memory map (an empty array needs no mapping)."""
    found, shape, offset = members[name]
    if found not in _DTYPES or (dtype is not None and found != dtype) or len(shape) != 1:
        raise LibraryError(f"{path}: corrupt cached library (bad array {name})")
    if shape[0] == 0:
        return np.zeros(0, dtype=found)
    if shape[0] * found.itemsize < _MAP_FROM:  # small: reading costs less than mapping
        with open(path, "rb") as fh:
            fh.seek(offset)
            out = np.fromfile(fh, dtype=found, count=shape[0])
        if len(out) != shape[0]:
            raise LibraryError(f"{path}: corrupt cached library (truncated {name})")
        out.flags.writeable = False
        return out
    # a plain read-only ndarray over the mapping (the mapping lives as long as it does)
    return np.memmap(path, dtype=found, mode="r", offset=offset, shape=shape).view(np.ndarray)


#: Arrays from this many bytes on are memory-mapped, smaller ones read.
_MAP_FROM = 1 << 20


def _load_v2(cls, path: Path, members: dict) -> GeneSetLibrary:
    try:
        for name in ("meta", "indptr", "indices", "gene_ptr", "gene_terms", "genes", "terms"):
            if name not in members:
                raise LibraryError(f"{path}: corrupt cached library (no {name})")
        meta = json.loads(_decode(_map(path, members, "meta", np.dtype("u1"))))
        if not isinstance(meta, dict):
            raise LibraryError(f"{path}: corrupt cached library (bad metadata)")
        if meta.get("format") != FORMAT_VERSION:
            raise LibraryError(f"{path}: cached library has an old format")
        indptr = _map(path, members, "indptr", np.dtype("<i8"))
        indices = _map(path, members, "indices")
        gene_ptr = _map(path, members, "gene_ptr", np.dtype("<i8"))
        gene_terms = _map(path, members, "gene_terms")
        genes = np.asarray(_split(_decode(_map(path, members, "genes", np.dtype("u1")))), dtype=str)
        terms_blob = _map(path, members, "terms", np.dtype("u1"))
        desc_blob = (
            _map(path, members, "descriptions", np.dtype("u1"))
            if "descriptions" in members
            else None
        )
    except LibraryError:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise LibraryError(f"{path}: corrupt cached library ({exc})") from exc
    n_terms, n_genes = len(indptr) - 1, len(genes)
    # the structure is checked here; the entries are bounds-checked by numpy on use
    if (
        n_terms < 0
        or len(gene_ptr) != n_genes + 1
        or int(indptr[0]) != 0
        or int(indptr[-1]) != len(indices)
        or int(gene_ptr[0]) != 0
        or int(gene_ptr[-1]) != len(gene_terms)
        or len(indices) != len(gene_terms)
        or (n_terms and bool((np.diff(indptr) < 0).any()))
        or bool((np.diff(gene_ptr) < 0).any())
    ):
        raise LibraryError(f"{path}: corrupt cached library (inconsistent membership)")

    def strings(blob: np.ndarray | None) -> Callable[[], np.ndarray]:
        def decode() -> np.ndarray:
            if blob is None:
                return np.full(n_terms, "", dtype=object)
            values = _split(_decode(blob), n_terms)
            if len(values) != n_terms:
                raise LibraryError(f"{path}: corrupt cached library (term names)")
            return _object_strings(values, trusted=True)

        return decode

    name = str(meta.pop("name", path.stem))
    meta.pop("format", None)
    return cls._trusted(
        name,
        genes=genes,
        indptr=indptr,
        indices=indices,
        terms=strings(terms_blob),
        descriptions=strings(desc_blob),
        meta=meta,
        gene_terms=(gene_ptr, gene_terms),
    )


def _load_v1(cls, path: Path) -> GeneSetLibrary:
    """Format 1: joined ``<U`` strings and the CSR arrays, read whole with ``np.load``."""
    import zipfile

    try:
        # Open the file ourselves: np.load leaks its handle when a zip is corrupt.
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if not isinstance(meta, dict):
                raise LibraryError(f"{path}: corrupt cached library (bad metadata)")
            if meta.get("format") not in READABLE_FORMATS:
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


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
