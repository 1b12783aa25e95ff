"""Knowledge-base search: the text the FTS5 index holds, the MATCH query built from what a user typed, and the
highlighted snippet shown with a hit.

Why the index holds a copy with each CJK character spaced out: Chinese is written without spaces, so FTS5's
`unicode61` tokenizer takes a whole run of Han characters (`如何办理退货手续`) as one token and `退货` finds
nothing. The `trigram` tokenizer (SQLite >= 3.34) finds substrings, but only of 3 characters or more, and the
everyday Chinese word is 2 (`退货`, `发票`, `维修`). Here every CJK character is a token of its own and a CJK run
of the query becomes a phrase (`"退 货"`: the characters adjacent and in order), which finds a word of any
length anywhere in the text; Latin words go through `unicode61` with the Porter stemmer (`returns` finds
`return`), case and diacritics folded. bm25 ranks both. Python's sqlite3 cannot register a tokenizer of its
own (that needs the C API), hence the spaced copy written beside each article by webui/kb_store.py."""
from __future__ import annotations

import re

# bottle's escape, not html.escape: the same five characters, without html's table of 2,231 named
# entities the web process would otherwise load and keep (docs/architecture.md §1 "Memory").
from bottle import html_escape as escape

# CJK Unified Ideographs with extension A, compatibility ideographs, kana and Hangul syllables: scripts
# written without spaces between words (Unicode 15, chapter 18).
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
CJK_CHAR = re.compile(f"[{CJK}]")
# A term of a query: a run of CJK characters, or a run of letters and digits of any other script.
TERM = re.compile(rf"[{CJK}]+|[^\W_{CJK}]+")
# Bounds what one search costs: a query of more terms than this is cut (a pasted paragraph is no query).
MAX_TERMS = 12
MAX_QUERY = 200
SNIPPET_CHARS = 160
# Markdown's marks, dropped from a snippet, which is read as plain text: a link or image keeps its text,
# emphasis, headings, quotes, code and table rules go.
MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
MD_MARKS = re.compile(r"^[ \t]*(?:#+|>+)|[*`|~]+|(?<!\w)_+|_+(?!\w)|-{3,}|={3,}", re.MULTILINE)


class SearchError(ValueError):
    """A query that holds nothing to search for."""


def index_text(text: str) -> str:
    """`text` as the index holds it: every CJK character set apart by spaces, the rest unchanged."""
    return CJK_CHAR.sub(lambda m: f" {m.group()} ", text)


def terms(query: str) -> list[str]:
    """The terms of a query as typed: CJK runs and words, nothing of FTS5's own syntax."""
    return TERM.findall(query[:MAX_QUERY])[:MAX_TERMS]


def match_expression(query: str) -> str:
    """The FTS5 MATCH expression for `query`: every term required; a CJK run as a phrase of its characters,
    and the last Latin word also as a prefix (search as one types). Raises SearchError if no term is left."""
    found = terms(query)
    if not found:
        raise SearchError(query)
    parts = []
    for i, term in enumerate(found):
        # Terms hold only letters and digits (TERM), so quoting them cannot break the expression.
        phrase = " ".join(term) if CJK_CHAR.match(term) else term
        last_latin = i == len(found) - 1 and not CJK_CHAR.match(term)
        parts.append(f'"{phrase}"*' if last_latin else f'"{phrase}"')
    return " AND ".join(parts)


def snippet(text: str, query: str, width: int = SNIPPET_CHARS) -> str:
    """The part of `text` around the first term of `query` found in it, escaped, each term found in
    `<mark>`; the start of the text when none is found (a stemmed match: `return` for `returns`). The result
    is HTML, safe to insert as it is: every character of `text` in it has been escaped."""
    found = sorted(set(terms(query)), key=len, reverse=True)
    flat = " ".join(MD_MARKS.sub(" ", MD_LINK.sub(r"\1", text)).split())
    pattern = re.compile("|".join(re.escape(t) for t in found), re.IGNORECASE) if found else None
    hit = pattern.search(flat) if pattern else None
    start = max(0, hit.start() - width // 3) if hit else 0
    piece = flat[start:start + width]
    out, at = [], 0
    for m in (pattern.finditer(piece) if pattern else ()):
        out.append(escape(piece[at:m.start()]))
        out.append(f"<mark>{escape(m.group())}</mark>")
        at = m.end()
    out.append(escape(piece[at:]))
    return ("…" if start else "") + "".join(out) + ("…" if start + width < len(flat) else "")
