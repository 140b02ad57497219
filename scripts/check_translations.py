#!/usr/bin/env python3
"""Check that every language's catalog is complete and correct.

Fails (exit status 1) on:
- a message of the template (messages.pot) missing from a language's catalog;
- a translation that is empty or marked fuzzy (for plurals: any empty form);
- a Plural-Forms header whose number of forms, or rule, differs from the language's (CLDR,
  as Babel knows it), and a plural message with the wrong number of forms;
- placeholders (``%(name)s``) that differ between the original and the translation.

Usage: ``scripts/check_translations.py [--translations DIR] [LOCALE ...]``
(`make check-translations`).
"""

from __future__ import annotations

import argparse
import gettext
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural
from babel.messages.pofile import PoFileError, read_po

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "portal" / "translations"
LOCALES = ("en", "lv", "pl", "ru", "zh_Hans", "ar")
#: Numbers on which a catalog's plural rule must pick the same form as the language's.
_SAMPLE_NUMBERS = range(0, 1001)


def _load(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, abort_invalid=True)


def _key(message: Message) -> str:
    msgid = message.id
    return str(msgid[0] if isinstance(msgid, (list, tuple)) else msgid)


def _label(message: Message) -> str:
    where = f" ({message.locations[0][0]}:{message.locations[0][1]})" if message.locations else ""
    return f"{_key(message)!r}{where}"


def _plural_header(po_text: str) -> str:
    """The Plural-Forms header, its continuation lines joined."""
    header = po_text.split("\n\n", 1)[0]
    joined = "".join(re.findall(r'^"(.*)"\s*$', header, flags=re.MULTILINE)).replace("\\n", "\n")
    for line in joined.splitlines():
        if line.lower().startswith("plural-forms:"):
            return line.split(":", 1)[1].strip()
    return ""


def check_plural_forms(po_text: str, locale: str) -> list[str]:
    """The header's plural rule must be the language's: same count, same form for each n."""
    expected = get_plural(locale)
    header = _plural_header(po_text)
    found = re.search(r"nplurals\s*=\s*(\d+)\s*;\s*plural\s*=\s*(.+?);?\s*$", header)
    if not found:
        return [f"no Plural-Forms header (expected {expected.plural_forms})"]
    count, expression = int(found.group(1)), found.group(2).strip().rstrip(";")
    if count != expected.num_plurals:
        return [
            f"Plural-Forms has nplurals={count}; {locale} has {expected.num_plurals} "
            f"({expected.plural_forms})"
        ]
    try:
        ours = gettext.c2py(expression)
    except (ValueError, SyntaxError):
        return [f"Plural-Forms rule cannot be read: {expression}"]
    theirs = gettext.c2py(expected.plural_expr)
    wrong = [n for n in _SAMPLE_NUMBERS if ours(n) != theirs(n)]
    if wrong:
        return [
            f"Plural-Forms rule picks the wrong form for n={wrong[0]} "
            f"(expected {expected.plural_forms})"
        ]
    return []


def check_messages(catalog: Catalog, template: Catalog | None) -> list[str]:
    problems: list[str] = []
    expected_forms = catalog.num_plurals
    if template is not None:
        for message in template:
            if message.id and message.id not in catalog:
                problems.append(f"missing {_label(message)}")
    for message in catalog:
        if not message.id:
            continue  # the header
        if message.fuzzy:
            problems.append(f"fuzzy {_label(message)}")
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if message.pluralizable and len(strings) != expected_forms:
            problems.append(
                f"{len(strings)} plural forms instead of {expected_forms} for {_label(message)}"
            )
        if not all(strings):
            problems.append(f"untranslated {_label(message)}")
            continue
        for error in message.check(catalog):
            problems.append(f"{error} in {_label(message)}")
    return problems


def check_locale(directory: Path, locale: str, template: Catalog | None) -> list[str]:
    path = directory / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return [f"no catalog at {path}"]
    problems = check_plural_forms(path.read_text(encoding="utf-8"), locale)
    if problems:
        return problems  # the messages cannot be read against the wrong plural rule
    try:
        catalog = _load(path, locale)
    except PoFileError as error:
        return [f"unreadable catalog: {error}"]
    return check_messages(catalog, template)


def run(directory: Path, locales: Iterable[str]) -> dict[str, list[str]]:
    pot = directory / "messages.pot"
    template = _load(pot) if pot.exists() else None
    return {locale: check_locale(directory, locale, template) for locale in locales}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("locales", nargs="*", default=list(LOCALES))
    parser.add_argument("--translations", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--limit", type=int, default=20, help="problems shown per language")
    args = parser.parse_args(argv)
    results = run(args.translations, args.locales)
    failed = False
    for locale, problems in results.items():
        if not problems:
            print(f"{locale}: complete")
            continue
        failed = True
        print(f"{locale}: {len(problems)} problem(s)")
        for problem in problems[: args.limit]:
            print(f"  {problem}")
        if len(problems) > args.limit:
            print(f"  ... and {len(problems) - args.limit} more")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
