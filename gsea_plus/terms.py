"""Term names: the identifier that ends them, and shortening them without losing it.

Identifiers are GO, HP, Reactome, WikiPathways, KEGG and MSigDB-like codes at the end of
a name; labels (plots) and terminal cells shorten the name, never the identifier.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

__all__ = ["ELLIPSIS", "LABEL_CHARS", "TERM_ID", "shorten_term", "shorten_terms", "split_id"]

#: Longest term label before it is shortened (the term ID is always kept whole).
LABEL_CHARS = 60

# Identifiers that end a term name: "(GO:0006954)", "(HP:0001250)", Reactome's
# "R-HSA-109581", WikiPathways' "WP254", KEGG's "hsa04110", MSigDB-like "M5890".
TERM_ID = re.compile(
    r"(?:\s*\((?:[A-Za-z][A-Za-z0-9_]*:[A-Za-z0-9_.:-]+|R-[A-Z]{3}-\d+|WP\d+|[a-z]{2,4}\d{5})\)"
    r"|\s+(?:R-[A-Z]{3}-\d+|WP\d+|[a-z]{2,4}\d{5}|[A-Za-z]+:\d{5,}))\s*$"
)
ELLIPSIS = "\u2026"


def split_id(term: str) -> tuple[str, str]:
    """``(name, identifier suffix)``, e.g. ``("Apoptosis", " (GO:0006915)")``."""
    m = TERM_ID.search(term)
    return (term[: m.start()], term[m.start() :]) if m else (term, "")


def shorten_term(term: str, max_chars: int = LABEL_CHARS, *, middle: bool = False) -> str:
    """Shorten a term name to ``max_chars`` characters, keeping its ID whole.

    ``"Positive Regulation Of Cysteine-Type Endopeptidase Activity Involved In Apoptotic
    Process (GO:0043280)"`` becomes ``"Positive Regulation Of Cysteine-Type… (GO:0043280)"``
    (``middle=True``: ``"Positive Regulation…Apoptotic Process (GO:0043280)"``, which
    keeps the end of the name too).
    """
    term = str(term)
    if len(term) <= max_chars:
        return term
    m = TERM_ID.search(term)
    name, ident = (term[: m.start()], term[m.start() :]) if m else (term, "")
    room = max(8, max_chars - len(ident) - 1)
    if len(name) <= room:
        return term
    if middle:
        head = math.ceil(room / 2)
        tail = room - head
        short = _cut_words(name[:head], end=True) + ELLIPSIS
        short += _cut_words(name[len(name) - tail :], end=False)
    else:
        short = _cut_words(name[:room], end=True) + ELLIPSIS
    return short + ident


def _cut_words(piece: str, *, end: bool) -> str:
    """Drop a partial word at the cut (``end``: at the end of ``piece``), if that is short."""
    if end:
        at = piece.rfind(" ")
        return piece[:at].rstrip() if at >= len(piece) - 10 and at > 0 else piece.rstrip()
    at = piece.find(" ")
    return piece[at + 1 :].lstrip() if 0 <= at < 10 else piece.lstrip()


def shorten_terms(terms: Iterable[str], max_chars: int = LABEL_CHARS) -> list[str]:
    """Shorten labels (:func:`shorten_term`) so that different terms stay different.

    Two names that agree in their first ``max_chars`` characters are shortened in the
    middle instead, so their different endings show; any label still shared gets
    ``[2]``, ``[3]``, ...
    """
    terms = [str(t) for t in terms]
    labels = [shorten_term(t, max_chars) for t in terms]
    # Compare names without their IDs: "Antigen Processing And Presentation Of Exogeno…"
    # twice, with two GO IDs, is still two labels a reader cannot tell apart.
    seen: dict[str, set[str]] = {}
    for t, lab in zip(terms, labels, strict=True):
        seen.setdefault(TERM_ID.sub("", lab), set()).add(t)
    labels = [
        shorten_term(t, max_chars, middle=True) if len(seen[TERM_ID.sub("", lab)]) > 1 else lab
        for t, lab in zip(terms, labels, strict=True)
    ]
    count: dict[str, int] = {}
    first: dict[str, str] = {}
    out = []
    for t, lab in zip(terms, labels, strict=True):
        owner = first.setdefault(lab, t)
        if owner != t:
            count[lab] = count.get(lab, 1) + 1
            lab = f"{lab} [{count[lab]}]"
        out.append(lab)
    return out
