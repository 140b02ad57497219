"""Parts of the layout that are the same on every page in a language, rendered once a process.

Every page renders the layout's style sheet links, the top of the navigation bar and the
language form's choices afresh: a dozen translations, asset URLs and escapes that depend on
nothing but the language, the writing direction and where the application is mounted. A
template marks such a part with ``{% cache "name", key, ... %}...{% endcache %}``: the part
is rendered once per name and key values, and kept as rendered.

The key must name everything the part shows. Only parts that depend on the language (and
what follows from it), the mount point and the deployed code and catalogs belong here, or
else on a few values the key itself holds (the navigation: which entries the user sees and
which one is active); a form's token, a name or a count never does. The store is per
process and bounded; with template auto-reloading (development) nothing is kept, so an edited
template shows at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

_LIMIT = 1024


class FragmentCache(Extension):
    """The ``{% cache name, key... %}`` tag (after Jinja's own fragment cache example)."""

    tags = {"cache"}

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self._fragments: dict[tuple[Any, ...], str] = {}
        self._lock = threading.Lock()

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        key = [parser.parse_expression()]
        while parser.stream.skip_if("comma"):
            key.append(parser.parse_expression())
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        call = self.call_method("_fragment", [nodes.Tuple(key, "load")])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _fragment(self, key: tuple[Any, ...], caller: Callable[[], str]) -> str:
        if self.environment.auto_reload:
            return caller()
        fragment = self._fragments.get(key)
        if fragment is None:
            fragment = caller()
            with self._lock:
                if len(self._fragments) >= _LIMIT:
                    self._fragments.clear()
                self._fragments[key] = fragment
        return fragment

    def clear(self) -> None:
        with self._lock:
            self._fragments.clear()

    def __len__(self) -> int:
        return len(self._fragments)
