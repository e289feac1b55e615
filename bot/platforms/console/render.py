"""Neutral messages as terminal text. Nothing here is markup, so nothing needs escaping."""

from __future__ import annotations

from handlers.base.messages import (
    Buttons,
    Context,
    Divider,
    Fields,
    Form,
    Heading,
    Message,
    Paragraph,
    RecordBlock,
    spans_text,
)


def render_text(message: Message, *, numbered_buttons: bool = False) -> str:
    lines: list[str] = []
    counter = 0
    for block in message.blocks:
        if isinstance(block, Heading):
            lines += [block.text, "─" * min(len(block.text), 60)]
        elif isinstance(block, Paragraph):
            lines.append(spans_text(block.spans))
        elif isinstance(block, Context):
            lines.append("  " + spans_text(block.spans).rstrip().replace("\n", "\n  "))
        elif isinstance(block, Fields):
            lines += [f"{k}: {v}" for k, v in block.items]
        elif isinstance(block, Buttons):
            labels = []
            for b in block.buttons:
                counter += 1
                labels.append(f"[{counter}] {b.label}" if numbered_buttons else f"[{b.label}]")
            lines.append("  ".join(labels))
        elif isinstance(block, Divider):
            lines.append("")
        elif isinstance(block, RecordBlock):
            from handlers.records.build import render_record

            lines.append(render_record(block.view, "markdown"))
    return "\n".join(lines) if lines else message.text


def render_form(form: Form) -> str:
    lines = [form.title, "─" * len(form.title)]
    if form.intro:
        lines.append(spans_text(form.intro))
    return "\n".join(lines)
