"""Every message of the interface has a zh_Hans and an en translation.

The messages are extracted from the code and the templates exactly as
`make update-translations` does (babel.cfg, keywords _l and lazy_gettext).
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "mktapp" / "translations"
LOCALES = ("zh_Hans", "en")


def extract(tmp_path: Path, monkeypatch):
    pot = tmp_path / "messages.pot"
    monkeypatch.chdir(ROOT)  # so that the locations read mktapp/..., templates/...
    # Babel skips folders starting with "_" by default; templates/_macros has messages.
    argv = ["pybabel", "-q", "extract", "-F", "babel.cfg", "--ignore-dirs", ".* __pycache__"]
    argv += ["-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."]
    CommandLineInterface().run(argv)
    with pot.open("rb") as fh:
        return read_po(fh)


def missing_translations(template, locale: str) -> list[str]:
    path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return [f"(no catalogue at {path.relative_to(ROOT)})"]
    with path.open("rb") as fh:
        catalogue = read_po(fh, locale=locale)
    missing = []
    for message in template:
        if not message.id:
            continue  # the header
        found = catalogue.get(message.id, message.context)
        strings = found.string if found else None
        if isinstance(strings, (tuple, list)):
            ok = all(strings)
        else:
            ok = bool(strings)
        if not ok or (found and found.fuzzy):
            msgid = message.id[0] if isinstance(message.id, tuple) else message.id
            where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
            missing.append(f"{msgid!r} ({where}){' [fuzzy]' if found and found.fuzzy else ''}")
    return missing


def test_messages_are_extracted(tmp_path, monkeypatch):
    template = extract(tmp_path, monkeypatch)
    ids = {m.id for m in template if m.id}
    assert "Sign in" in ids
    assert "History" in ids  # from templates/_macros/history.html
    assert len(ids) > 20


def test_every_message_has_a_zh_hans_and_an_en_translation(tmp_path, monkeypatch):
    template = extract(tmp_path, monkeypatch)
    report = []
    for locale in LOCALES:
        missing = missing_translations(template, locale)
        if missing and missing[0].startswith("(no catalogue"):
            report.append(f"{locale}: {missing[0]}")
        elif missing:
            report.append(f"{locale}: {len(missing)} missing\n  " + "\n  ".join(missing))
    assert not report, "untranslated messages:\n" + "\n".join(report)
