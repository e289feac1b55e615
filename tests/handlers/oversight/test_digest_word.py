"""The Lead Officer digest as a Word report with charts: the same suppressed numbers, pictures
with alt text, no child, name or free text, on both backends and from the command line."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from handlers.base.core import Core
from handlers.oversight.digest_word import digest_docx, digest_months
from prompts.loader import load_catalogue
from storage.db import Database
from tests.factories.scenarios import digest_month, digest_secrets

FEB = date(2026, 2, 1)  # the clock stands at Monday 2 March 2026

PNG = b"\x89PNG\r\n\x1a\n"


def _text(doc: DocxDocument) -> str:
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    head = [p.text for p in doc.sections[0].header.paragraphs]
    return "\n".join([p.text for p in doc.paragraphs] + cells + head)


async def test_word_digest_has_the_months_charts_and_only_the_counts_that_may_be_shown(
    core: Core,
) -> None:
    org_id = await digest_month(core)
    views = await digest_months(core, org_id, FEB)
    assert [v.month.month for v in views] == [9, 10, 11, 12, 1, 2]  # six months, oldest first
    data = digest_docx(views, author="Council", marking="OFFICIAL-SENSITIVE")
    doc = Document(io.BytesIO(data))
    assert [p.text for p in doc.sections[0].header.paragraphs] == [
        "OFFICIAL-SENSITIVE",
        "Lead Officer digest · February 2026",
    ]
    assert round(doc.sections[0].page_width.mm) == 210
    summary = doc.tables[0]
    assert [c.text for c in summary.rows[0].cells] == [
        "What",
        "February 2026",
        "January 2026",
        "Trend",
    ]
    assert [c.text for c in summary.rows[1].cells][:3] == [
        "Supervisions held",
        "6",
        "fewer than 5",
    ]
    assert [c.text for c in summary.rows[3].cells][:2] == ["Overdue supervisions now", "5"]

    held, rates = (s._inline.docPr.get("descr") for s in doc.inline_shapes)
    assert held.startswith("Bar chart of the supervisions held each month, Sep 2025 to Feb 2026")
    assert "Jan 2026: fewer than 5" in held and "Feb 2026: 6" in held
    assert "Is the plan working well?: 33% Yes · 67% No · 0% Not sure." in rates
    assert "Are the risks" not in rates  # too few answers: no bar for it
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        images = [n for n in package.namelist() if n.startswith("word/media/")]
        assert len(images) == 2 and all(package.read(n).startswith(PNG) for n in images)

    text = _text(doc)
    assert "not shown: fewer than 5 answers" in text
    for i in range(13):
        assert not any(secret in text for secret in digest_secrets(i))
    assert "Free text" not in text


async def test_a_month_without_enough_supervisions_draws_no_bars_it_would_reveal(
    core: Core,
) -> None:
    org_id = await digest_month(core)
    views = await digest_months(core, org_id, FEB, min_count=7)
    doc = Document(io.BytesIO(digest_docx(views, author="", marking="")))
    held = doc.inline_shapes[0]._inline.docPr.get("descr")
    assert "Feb 2026: fewer than 7" in held and ": 6" not in held
    assert len(doc.inline_shapes) == 1  # no question's rates may be shown: no rates chart
    assert "No question had enough agreed positions" in _text(doc)
    assert doc.core_properties.author == "Core group reflection"
    assert [p.text for p in doc.sections[0].header.paragraphs] == [
        "Lead Officer digest · February 2026"
    ]


async def test_welsh_word_digest(core: Core) -> None:
    org_id = await digest_month(core)
    views = await digest_months(core, org_id, FEB)
    doc = Document(io.BytesIO(digest_docx(views, author="Cyngor", marking="", lang="cy")))
    text = _text(doc)
    assert "Crynodeb y Swyddog Arweiniol · Chwefror 2026" in text
    assert "llai na 5" in text and "fewer than" not in text
    styles = doc.styles.element
    lang = styles.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
    assert lang is not None and lang.get(qn("w:val")) == "cy-GB"


@pytest.fixture
def file_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("COREGROUP_SETS_DIR", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def test_cli_writes_the_word_digest_beside_the_markdown(file_db: str, tmp_path: Path) -> None:
    db = Database(file_db)
    try:
        await db.create_all()
        await digest_month(Core(db=db, sets=load_catalogue()))
    finally:
        await db.dispose()
    out = tmp_path / "digest.docx"
    args = ["digest", "--month", "2026-02", "--docx", str(out)]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    assert "**Supervisions held:** 6 (January 2026: fewer than 5)" in result.stdout
    assert f"Word report written to {out}" in result.stderr
    doc = Document(io.BytesIO(out.read_bytes()))
    assert doc.core_properties.author == "Council"
    assert len(doc.inline_shapes) == 2
