"""The page of a Word record fit for a UK case file, and the tables on it.

A4 with 2 cm margins; the protective marking, the child's reference and the title at the top of
every page; "Page X of Y" and the date produced at the foot; Heading 1/2 for the navigation
pane and screen readers; tables whose header rows repeat on each page, whose rows never split
and whose columns fit what they hold; the document's language and properties set, nothing left
from python-docx's template. Rows and runs are written as XML directly: python-docx's objects
(add_row, add_run, bold, merge) were ~85 % of the export's time.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table
from lxml import etree

from prompts.strings import t
from prompts.text import scrub

DOCUMENT_LANGUAGE = {"en": "en-GB", "cy": "cy-GB"}
FONT = "Arial"
# Widths in twentieths of a point (dxa); each table fills the 170 mm between A4's 2 cm margins.
TEXT_WIDTH = 9638
DETAILS_COLUMNS = (2550, 7088)
QUESTION_COLUMNS = (680, 3280, 1800, 1700, 2178)  # No. · Question · Answers · Agreed · Notes
TRAJECTORY_COLUMNS = (5100, 4538)
ACTION_COLUMNS = (3970, 2550, 1984, 1134)
HEADER_FILL = "E7E6E6"
APP_XML = (
    b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'extended-properties"><Application>coregroup-reflect</Application></Properties>'
)

# Characters XML 1.0 cannot hold (python-docx raises on them): dropped, never fatal.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_R, _RPR, _B, _T, _BR, _TAB = (qn(f"w:{n}") for n in ("r", "rPr", "b", "t", "br", "tab"))
_P, _PPR, _KEEP, _TR, _TRPR, _TC, _TCPR, _TCW, _SPAN, _SHD = (
    qn(f"w:{n}")
    for n in ("p", "pPr", "keepNext", "tr", "trPr", "tc", "tcPr", "tcW", "gridSpan", "shd")
)
_CANT_SPLIT, _TBL_HEADER = qn("w:cantSplit"), qn("w:tblHeader")
_VAL, _W, _TYPE, _FILL = qn("w:val"), qn("w:w"), qn("w:type"), qn("w:fill")
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# Line breaks and tabs become <w:br/> and <w:tab/>, as python-docx's ``run.text`` does.
_BREAKS = re.compile(r"([\n\r\t])")

Cell = tuple[object, bool]  # (text, bold)


def plain(value: object) -> str:
    """Text as a run may hold it: no bidi overrides or control characters, valid XML."""
    return _NOT_XML.sub("", "" if value is None else scrub(str(value)))


def long_date(day: date, lang: str) -> str:
    """ "Wednesday 1 July 2026" / "Dydd Mercher 1 Gorffennaf 2026"."""
    return format_date(day, "EEEE d MMMM y", locale="cy" if lang == "cy" else "en")


# ---- XML building blocks ---------------------------------------------------------------------


def add_run(paragraph: Any, text: object, bold: bool = False) -> None:
    run = etree.SubElement(paragraph, _R)
    if bold:
        etree.SubElement(etree.SubElement(run, _RPR), _B)
    for piece in _BREAKS.split(plain(text)):
        if piece == "\t":
            etree.SubElement(run, _TAB)
        elif piece in ("\n", "\r"):
            etree.SubElement(run, _BR)
        elif piece:
            t_ = etree.SubElement(run, _T)
            t_.text = piece
            if piece[0].isspace() or piece[-1].isspace():
                t_.set(_XML_SPACE, "preserve")


def add_paragraph(cell: Any, keep_next: bool = False) -> Any:
    p = etree.SubElement(cell, _P)
    if keep_next:  # keeps a question on the same page as its first answer
        etree.SubElement(etree.SubElement(p, _PPR), _KEEP)
    return p


def add_heading(doc: Any, text: str, level: int) -> None:
    """A Heading 1/2 paragraph by style id: python-docx's add_heading looks the style up by
    name through every style in the document, each time."""
    p = doc.add_paragraph()._p
    p.get_or_add_pPr().style = f"Heading{level}"
    add_run(p, text)


def _tr(table: Table, header: bool = False) -> Any:
    """A row that never splits across pages; a header row repeats at the top of each page."""
    tr = etree.SubElement(table._tbl, _TR)
    props = etree.SubElement(tr, _TRPR)
    etree.SubElement(props, _CANT_SPLIT)
    if header:
        etree.SubElement(props, _TBL_HEADER)
    return tr


def _tc(row: Any, width: int, span: int = 1, fill: str | None = None) -> Any:
    tc = etree.SubElement(row, _TC)
    props = etree.SubElement(tc, _TCPR)
    tcw = etree.SubElement(props, _TCW)
    tcw.set(_W, str(width))
    tcw.set(_TYPE, "dxa")
    if span > 1:
        etree.SubElement(props, _SPAN).set(_VAL, str(span))
    if fill:
        shd = etree.SubElement(props, _SHD)
        shd.set(_VAL, "clear")
        shd.set(_FILL, fill)
    return tc


def new_table(doc: Any, widths: tuple[int, ...], labels: tuple[str, ...] | None = None) -> Table:
    """A fixed-layout grid table of these column widths, with a repeating header row."""
    table = doc.add_table(rows=0, cols=len(widths))
    table.style = "Table Grid"
    table.autofit = False  # fixed layout: Word keeps the widths instead of sharing them out
    for col, width in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        col.set(_W, str(width))
    tbl_w = table._tbl.tblPr.find(qn("w:tblW"))
    if tbl_w is not None:
        tbl_w.set(_W, str(sum(widths)))
        tbl_w.set(_TYPE, "dxa")
    if labels is not None:
        tr = _tr(table, header=True)
        for width, label in zip(widths, labels, strict=True):
            add_run(add_paragraph(_tc(tr, width, fill=HEADER_FILL)), label, bold=True)
    return table


def add_row(
    table: Table, widths: tuple[int, ...], cells: Sequence[Cell], keep_next: bool = False
) -> None:
    tr = _tr(table)
    for width, (text, bold) in zip(widths, cells, strict=True):
        add_run(add_paragraph(_tc(tr, width), keep_next), text, bold)


def add_wide_row(table: Table, widths: tuple[int, ...]) -> Any:
    """A row of one cell across the table's full width; returns that cell."""
    return _tc(_tr(table), sum(widths), len(widths))


def _field(paragraph: Any, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES): Word and LibreOffice fill it in on every page."""
    for kind in ("begin", None, "separate", "1", "end"):
        run = etree.SubElement(paragraph, _R)
        if kind is None:
            code = etree.SubElement(run, qn("w:instrText"))
            code.text = f" {instruction} "
            code.set(_XML_SPACE, "preserve")
        elif kind == "1":
            etree.SubElement(run, _T).text = "1"
        else:
            etree.SubElement(run, qn("w:fldChar")).set(qn("w:fldCharType"), kind)


# ---- the page, the styles and the properties -------------------------------------------------


def set_up_page(doc: Any) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    section.header_distance = section.footer_distance = Cm(1)


def set_styles(doc: Any, lang: str) -> None:
    styles = doc.styles
    styles["Normal"].font.size = Pt(10)
    for name in ("Normal", "Heading 1", "Heading 2"):
        styles[name].font.name = FONT
    defaults = styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    language = defaults.find(qn("w:lang"))
    if language is None:
        language = etree.SubElement(defaults, qn("w:lang"))
    language.set(_VAL, DOCUMENT_LANGUAGE[lang])


@dataclass(frozen=True)
class PageFacts:
    """What a document says about itself: on every page and in its properties."""

    title: str
    subject: str
    author: str
    marking: str  # the protective marking; empty for none
    running_head: str  # under the marking at the top of each page
    lang: str
    produced: datetime
    timezone: str = "Europe/London"


def new_document(facts: PageFacts) -> Any:
    """An A4 document with its styles, properties, header and footer in place."""
    doc = Document()
    set_up_page(doc)
    set_styles(doc, facts.lang)
    set_properties(doc, facts)
    add_header_and_footer(doc, facts)
    return doc


def set_properties(doc: Any, facts: PageFacts) -> None:
    """Title, subject, author and today's dates; nothing of python-docx's own template."""
    props = doc.core_properties
    props.title = plain(facts.title)
    props.subject = plain(facts.subject)
    props.author = props.last_modified_by = plain(facts.author)
    props.comments = props.keywords = ""
    props.category = plain(facts.marking)
    props.language = DOCUMENT_LANGUAGE[facts.lang]
    props.revision = 1
    moment = facts.produced.astimezone(UTC).replace(tzinfo=None)  # the file stores UTC
    props.created = props.modified = moment
    package = doc.part.package
    for key, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:  # a picture of the template's blank page
            package.rels.pop(key)
        elif rel.reltype == RT.EXTENDED_PROPERTIES:  # "Microsoft Macintosh Word", 0 pages
            rel.target_part._blob = APP_XML


def _centred(paragraph: Any) -> Any:
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return paragraph._p


def add_header_and_footer(doc: Any, facts: PageFacts) -> None:
    """On every page: the marking and the running head; page X of Y and the date made."""
    lang = facts.lang
    section = doc.sections[0]
    header = section.header
    header.is_linked_to_previous = False
    top = _centred(header.paragraphs[0])
    if facts.marking:
        add_run(top, facts.marking, bold=True)
        top = _centred(header.add_paragraph(style="Header"))
    add_run(top, facts.running_head)

    footer = section.footer
    footer.is_linked_to_previous = False
    line = _centred(footer.paragraphs[0])
    fields = {"page": "PAGE", "pages": "NUMPAGES"}
    for literal, name, _, _ in string.Formatter().parse(
        t("word.page", lang, page="{page}", pages="{pages}")
    ):
        if literal:
            add_run(line, literal)
        if name in fields:
            _field(line, fields[name])
    day = facts.produced.astimezone(ZoneInfo(facts.timezone)).date()
    add_run(line, " · " + t("word.produced", lang, date=long_date(day, lang)))
    if facts.marking:
        add_run(_centred(footer.add_paragraph(style="Footer")), facts.marking, bold=True)
