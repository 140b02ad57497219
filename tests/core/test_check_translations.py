"""The catalog check (`make check-translations`) on small catalogs of its own."""

from __future__ import annotations

from pathlib import Path

from scripts.check_translations import main, run

RU_PLURALS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);"
)

POT = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"

#: portal/a.py:1
msgid "Sign in"
msgstr ""

#: portal/a.py:2
msgid "%(num)d friend brought"
msgid_plural "%(num)d friends brought"
msgstr[0] ""
msgstr[1] ""
"""


def _po(plural_forms: str, body: str) -> str:
    return (
        'msgid ""\nmsgstr ""\n'
        f'"Language: ru\\n"\n"Plural-Forms: {plural_forms}\\n"\n'
        '"Content-Type: text/plain; charset=utf-8\\n"\n\n' + body
    )


COMPLETE = """\
msgid "Sign in"
msgstr "Войти"

msgid "%(num)d friend brought"
msgid_plural "%(num)d friends brought"
msgstr[0] "%(num)d друг"
msgstr[1] "%(num)d друга"
msgstr[2] "%(num)d друзей"
"""


def _catalogs(tmp_path: Path, po: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "messages.pot").write_text(POT, encoding="utf-8")
    folder = tmp_path / "ru" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(po, encoding="utf-8")
    return tmp_path


def test_a_complete_catalog_passes(tmp_path: Path) -> None:
    directory = _catalogs(tmp_path, _po(RU_PLURALS, COMPLETE))
    assert run(directory, ["ru"]) == {"ru": []}
    assert main(["--translations", str(directory), "ru"]) == 0


def test_missing_untranslated_and_fuzzy_messages_fail(tmp_path: Path) -> None:
    body = '#, fuzzy\nmsgid "Sign in"\nmsgstr "Войти"\n'
    directory = _catalogs(tmp_path, _po(RU_PLURALS, body))
    problems = run(directory, ["ru"])["ru"]
    assert any(p.startswith("fuzzy 'Sign in'") for p in problems)
    assert any(p.startswith("missing '%(num)d friend brought'") for p in problems)
    assert main(["--translations", str(directory), "ru"]) == 1

    empty = COMPLETE.replace('msgstr[2] "%(num)d друзей"', 'msgstr[2] ""')
    directory = _catalogs(tmp_path / "again", _po(RU_PLURALS, empty))
    assert run(directory, ["ru"])["ru"] == ["untranslated '%(num)d friend brought'"]


def test_plural_forms_must_match_the_language(tmp_path: Path) -> None:
    english_rule = "nplurals=2; plural=(n != 1);"
    directory = _catalogs(tmp_path, _po(english_rule, COMPLETE))
    problems = run(directory, ["ru"])["ru"]
    assert any("nplurals=2; ru has 3" in p for p in problems)

    wrong_rule = "nplurals=3; plural=(n==1 ? 0 : n==2 ? 1 : 2);"
    directory = _catalogs(tmp_path / "rule", _po(wrong_rule, COMPLETE))
    assert any("wrong form" in p for p in run(directory, ["ru"])["ru"])


def test_placeholders_must_survive_translation(tmp_path: Path) -> None:
    broken = COMPLETE.replace('msgstr[1] "%(num)d друга"', 'msgstr[1] "%(count)d друга"')
    directory = _catalogs(tmp_path, _po(RU_PLURALS, broken))
    assert run(directory, ["ru"])["ru"]
