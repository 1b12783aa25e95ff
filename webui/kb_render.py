"""An article's Markdown as HTML that is safe to insert into a page: CommonMark (markdown-it-py) with raw HTML
off, so `<script>` or `<img onerror>` in an article shows as the text it is, and links and images only to
the schemes an article needs."""
from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# What a link or image in an article may point to: the web, mail and phone numbers, and paths on this box.
# Everything else (javascript:, vbscript:, data:, file:, a browser's own schemes) is left as plain text.
ALLOWED_SCHEMES = ("http", "https", "mailto", "tel")
SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
# Characters a browser drops from a URL before reading its scheme (WHATWG URL: C0 controls and space
# trimmed, tab and newline removed), so "java\tscript:" is judged as "javascript:".
IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]")


def link_allowed(url: str) -> bool:
    """Whether `url` has an allowed scheme or none (a path or anchor on this box)."""
    bare = IGNORED_IN_URL.sub("", url)
    found = SCHEME.match(bare)
    if found is None:
        # "//host/x" is another site with the page's scheme: allowed as http(s) would be.
        return True
    return found.group(1).lower() in ALLOWED_SCHEMES


@functools.cache
def _parser() -> MarkdownIt:
    # Imported at the first article shown, not at start: the parser costs the web process about 2 MB of
    # its 40 MB (docs/architecture.md section 1), which a box whose staff never opens an article keeps.
    from markdown_it import MarkdownIt

    # "commonmark" with html False: raw HTML blocks and inline tags are escaped as text, never passed on.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    md.validateLink = link_allowed  # type: ignore[method-assign]

    def link_open(renderer, tokens, idx, options, env):
        # An article's link may leave the box: the target learns nothing of the page it came from.
        tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md



def render(markdown: str) -> str:
    """`markdown` as HTML: every character of the source escaped unless Markdown syntax made it markup."""
    return _parser().render(markdown)
