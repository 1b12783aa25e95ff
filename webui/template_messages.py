"""Babel extractor for the bottle SimpleTemplate views (babel.cfg): the messages marked with _() and
ngettext() in webui/views/*.tpl, found the way bottle itself reads a template.

Bottle's own parser turns the template into the Python it runs, line for line (so the reference
comments in the catalogue name the template's lines), and Babel's Python extractor reads that: every
`{{_("...")}}` and every `% ... _("...")` line is found, and none of the page's HTML is taken for code."""
from __future__ import annotations

import io

from babel.messages.extract import extract_python
from bottle import StplParser


def extract(fileobj, keywords, comment_tags, options):
    """Babel's extractor interface: (line, function, message, comments) for each marked message."""
    encoding = options.get("encoding", "utf-8")
    code = StplParser(fileobj.read().decode(encoding)).translate()
    yield from extract_python(io.BytesIO(code.encode("utf-8")), keywords, comment_tags,
                              {**options, "encoding": "utf-8"})
