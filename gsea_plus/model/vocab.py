"""The gene vocabulary: ``vocab.txt``, one token per line, ``<unk>`` and ``<pad>`` first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from gsea_plus.errors import ModelError

__all__ = ["PAD", "SPECIAL", "UNK", "Vocab"]

UNK, PAD = "<unk>", "<pad>"
SPECIAL = (UNK, PAD)


class Vocab:
    """Token list with a symbol -> index map; indices 0 and 1 are ``<unk>`` and ``<pad>``.

    Parameters
    ----------
    tokens
        All tokens in order, the two special tokens first.
    """

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if tuple(tokens[:2]) != SPECIAL:
            raise ModelError("the vocabulary must start with <unk> and <pad>")
        if len(set(tokens)) != len(tokens):
            raise ModelError("the vocabulary has duplicate tokens")
        self.tokens = np.asarray(tokens, dtype=str)

    def __len__(self) -> int:
        return len(self.tokens)

    @cached_property
    def index(self) -> dict[str, int]:
        """Token -> index (symbols are matched upper-cased)."""
        return {t: i for i, t in enumerate(self.tokens.tolist()) if i >= len(SPECIAL)}

    @property
    def genes(self) -> np.ndarray:
        """The gene tokens (the vocabulary without the special tokens)."""
        return self.tokens[len(SPECIAL) :]

    def lookup(self, genes: Iterable[str]) -> tuple[np.ndarray, list[str]]:
        """Unique vocabulary indices of ``genes`` (input order) and the unknown symbols."""
        index = self.index
        ids: dict[int, None] = {}
        unknown: list[str] = []
        for g in genes:
            i = index.get(str(g).strip().upper())
            if i is None:
                unknown.append(str(g))
            else:
                ids.setdefault(i, None)
        return np.fromiter(ids, dtype=np.int64, count=len(ids)), unknown

    def save(self, path: str | Path) -> None:
        """Write ``vocab.txt`` atomically."""
        from gsea_plus.library.cache import atomic_write

        atomic_write(Path(path), ("\n".join(self.tokens.tolist()) + "\n").encode())

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        """Read ``vocab.txt``; a token per line, upper-cased except the special tokens."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ModelError(f"{path}: no such file") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"{path}: cannot read the vocabulary ({exc})") from exc
        tokens = [t.strip() for t in text.splitlines()]
        while tokens and not tokens[-1]:
            tokens.pop()
        tokens = [t if t in SPECIAL else t.upper() for t in tokens]
        try:
            return cls(tokens)
        except ModelError as exc:
            raise ModelError(f"{path}: {exc}") from exc
