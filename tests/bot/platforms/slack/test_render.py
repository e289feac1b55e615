"""Neutral messages and forms as Block Kit: escaping, mentions, limits, unique action ids."""

from __future__ import annotations

import re

import pytest

from bot.platforms.slack.render import (
    ELLIPSIS,
    MAX_BLOCKS,
    escape,
    render_form,
    render_home,
    render_message,
    strip_action_suffix,
    truncate,
)
from handlers.base.messages import (
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    Form,
    FormField,
    Heading,
    Mention,
    Message,
    Option,
    Paragraph,
    Quiet,
    Strong,
)

UNSAFE = re.compile(r"<[!#@]|<https?:|<mailto:")


def section_texts(message: Message) -> list[str]:
    out = []
    for page in render_message(message):
        out.append(page.text)
        for block in page.blocks:
            if isinstance(block.get("text"), dict) and block["text"]["type"] == "mrkdwn":
                out.append(block["text"]["text"])
            for el in block.get("elements", []) + block.get("fields", []):
                if el.get("type") == "mrkdwn":
                    out.append(el["text"])
    return out


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("<!channel> look", "&lt;!channel&gt; look"),
        ("<!here>", "&lt;!here&gt;"),
        ("<!everyone>", "&lt;!everyone&gt;"),
        ("<@U12345> said", "&lt;@U12345&gt; said"),
        ("<!subteam^S123|team>", "&lt;!subteam^S123|team&gt;"),
        ("<https://evil.example|harmless>", "&lt;https://evil.example|harmless&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("&lt;already&gt;", "&amp;lt;already&amp;gt;"),
        ("{{ 7*7 }} *bold* _it_", "{{ 7*7 }} *bold* _it_"),
        ("שלום 👋🏽", "שלום 👋🏽"),
    ],
)
def test_typed_text_is_shown_as_typed_and_never_pings(typed: str, shown: str) -> None:
    texts = section_texts(Message(text=typed, blocks=(Paragraph((typed,)),)))
    assert texts == [shown, shown]
    assert not any(UNSAFE.search(t) for t in texts)


@pytest.mark.parametrize("word", ["@channel", "@here", "@everyone", "@Channel"])
def test_broadcast_words_are_broken_so_nobody_is_pinged(word: str) -> None:
    out = escape(f"hi {word} now")
    assert word not in out
    assert out.replace("\u2060", "") == f"hi {word} now"


def test_spans_are_escaped_inside_bold_and_quiet() -> None:
    message = Message(
        text="x", blocks=(Paragraph((Strong("<!here>"), " ", Quiet("a > b"), " ", "1 & 2")),)
    )
    assert section_texts(message)[1] == "*&lt;!here&gt;* _a &gt; b_ 1 &amp; 2"


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [
        ("U0123ABC", "<@U0123ABC>"),
        ("W0123ABC", "<@W0123ABC>"),
        ("u0123abc", "Sam &lt;x&gt;"),
        ("U1", "Sam &lt;x&gt;"),
        ("U123> <!channel", "Sam &lt;x&gt;"),
        ("console:sam", "Sam &lt;x&gt;"),
    ],
)
def test_mentions_only_for_valid_ids_else_escaped_name(user_id: str, expected: str) -> None:
    message = Message(text="x", blocks=(Paragraph((Mention(user_id, "Sam <x>"),)),))
    assert section_texts(message)[1] == expected


def test_truncation_after_escaping_never_splits_an_entity_or_token() -> None:
    text = escape("a" * 2995 + "<<<<")  # the entities straddle the 3000 limit
    cut = truncate(text, 3000)
    assert len(cut) <= 3000
    assert cut.endswith(ELLIPSIS)
    assert not re.search(r"&[a-z]*$", cut[:-1])
    mention_cut = truncate("x" * 2990 + "<@U0123456789>", 3000)
    assert "<@" not in mention_cut


def test_ten_thousand_characters_fit_in_a_section() -> None:
    page = render_message(Message(text="z" * 10_000, blocks=(Paragraph(("<" * 10_000,)),)))[0]
    assert len(page.blocks[0]["text"]["text"]) <= 3000
    assert len(page.text) <= 3000


def test_more_than_fifty_blocks_split_into_several_messages() -> None:
    blocks = tuple(Paragraph((f"line {i}",)) for i in range(120))
    pages = render_message(Message(text="long", blocks=blocks))
    assert [len(p.blocks) for p in pages] == [MAX_BLOCKS, MAX_BLOCKS, 20]
    assert all(p.text == "long" for p in pages)


def test_large_block_text_is_split_before_slacks_total_limit() -> None:
    blocks = tuple(Paragraph(("y" * 2900,)) for _ in range(10))
    pages = render_message(Message(text="big", blocks=blocks))
    assert len(pages) > 1
    for page in pages:
        assert sum(len(b["text"]["text"]) for b in page.blocks) <= 13_000


def test_buttons_get_unique_action_ids_that_strip_back_to_the_action() -> None:
    buttons = Buttons(
        (
            Button("Yes", "dlg.answer", "1:q:yes"),
            Button("No", "dlg.answer", "1:q:no"),
            Button("Not sure", "dlg.answer", "1:q:unsure"),
            Button("Skip", "dlg.skip", "1:q"),
        )
    )
    [block] = render_message(Message(text="q", blocks=(buttons,)))[0].blocks
    ids = [el["action_id"] for el in block["elements"]]
    assert len(set(ids)) == 4
    assert [strip_action_suffix(i) for i in ids] == ["dlg.answer"] * 3 + ["dlg.skip"]


def test_button_limits_and_spoken_label() -> None:
    long_label = "L" * 200
    button = Button(long_label, "a" * 400, "v", style="primary", spoken="Change answer 4")
    [block] = render_message(Message(text="q", blocks=(Buttons((button,)),)))[0].blocks
    [el] = block["elements"]
    assert len(el["text"]["text"]) <= 75
    assert len(el["action_id"]) <= 255
    assert el["accessibility_label"] == "Change answer 4"
    assert el["style"] == "primary"


def test_more_than_25_buttons_use_several_action_blocks() -> None:
    buttons = Buttons(tuple(Button(f"B{i}", "pick", str(i)) for i in range(30)))
    blocks = render_message(Message(text="q", blocks=(buttons,)))[0].blocks
    assert [len(b["elements"]) for b in blocks] == [25, 5]


def test_heading_fields_context_divider_shapes() -> None:
    message = Message(
        text="t",
        blocks=(
            Heading("Progress <!channel>"),
            Fields((("Child", "AB-1234"), ("Due", "<soon>"))),
            Context(("Question 4 of 14",)),
            Divider(),
        ),
    )
    header, fields, context, divider = render_message(message)[0].blocks
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Progress <!channel>", "emoji": True},
    }
    assert fields["fields"][1]["text"] == "*Due*\n&lt;soon&gt;"
    assert context["elements"][0]["text"] == "Question 4 of 14"
    assert divider == {"type": "divider"}


def test_form_becomes_a_modal_within_limits() -> None:
    form = Form(
        form_id="session.close",
        title="Close and record the session today",
        state="42",
        submit="Close and send the record now",
        intro=(Strong("Agreed position"), " for <!here>"),
        fields=(
            FormField("notes", "Notes", "multiline", hint="Reasons, not ticks", max_length=9000),
            FormField("child", "Child reference", initial="AB-1234", max_length=32),
            FormField(
                "pos",
                "Agreed position",
                "select",
                options=(Option("yes", "Yes"), Option("no", "No")),
                initial="no",
            ),
            FormField(
                "themes",
                "Themes",
                "multi_select",
                options=(Option("a", "A"), Option("b", "B")),
                initial=("b",),
                optional=True,
            ),
            FormField("due", "By when", "date", initial="2026-03-09"),
            FormField("owner", "Who", "user", initial="U0123ABC"),
            FormField("members", "Members", "users", initial=("U0123ABC", "bad id")),
            FormField("prebirth", "Registered pre-birth", "check", initial=True),
        ),
    )
    view = render_form(form)
    assert view["callback_id"] == "session.close"
    assert view["private_metadata"] == "42"
    assert len(view["title"]["text"]) <= 24 and len(view["submit"]["text"]) <= 24
    intro, notes, child, pos, themes, due, owner, members, check = view["blocks"]
    assert intro["text"]["text"] == "*Agreed position* for &lt;!here&gt;"
    assert notes["element"]["multiline"] is True
    assert notes["element"]["max_length"] == 3000
    assert notes["hint"]["text"] == "Reasons, not ticks"
    assert notes["optional"] is False
    assert child["element"]["initial_value"] == "AB-1234"
    assert child["element"]["max_length"] == 32
    assert pos["element"]["initial_option"]["value"] == "no"
    assert themes["optional"] is True
    assert [o["value"] for o in themes["element"]["initial_options"]] == ["b"]
    assert due["element"]["initial_date"] == "2026-03-09"
    assert owner["element"]["initial_user"] == "U0123ABC"
    assert members["element"]["initial_users"] == ["U0123ABC"]
    assert check["element"]["initial_options"][0]["value"] == "yes"
    assert check["optional"] is True


def test_form_state_over_slacks_limit_is_refused_not_cut() -> None:
    from bot.platforms.slack.render import RenderError

    with pytest.raises(RenderError):
        render_form(Form(form_id="f", title="t", fields=(), state="1" * 3001))


def test_home_view_allows_up_to_100_blocks() -> None:
    home = render_home(Message(text="h", blocks=tuple(Paragraph((str(i),)) for i in range(150))))
    assert home["type"] == "home"
    assert len(home["blocks"]) == 100


def _hostile_record() -> object:
    from datetime import date

    from handlers.base.record_view import MemberAnswer, Person, QuestionView, RecordView

    words = "<!channel> <@U0BADBAD> <https://evil.example|click> {{ 7*7 }} שלום 👋 "
    questions = tuple(
        QuestionView(
            id=f"q{i}",
            number=i,
            headline=f"Question {i}?",
            guidance=(),
            kind="yes_no",
            purpose="",
            answers=tuple(
                MemberAnswer(
                    member=f"Member {m}", agency="Health", choice="Yes", comment=words * 40
                )
                for m in range(3)
            ),
            tally={"Yes": 3},
            split=False,
        )
        for i in range(1, 15)
    )
    return RecordView(
        session_id=1,
        set_id="appendix1",
        set_title="Core group supervision",
        status="closed",
        date=date(2026, 3, 2),
        date_text="Mon 2 Mar 2026",
        timezone="Europe/London",
        facilitator=Person("RO <!here>"),
        attendees=(Person("Member 0", "Health"),),
        child_ref="AB-1234",
        opening_prompt="",
        questions=questions,
        actions=(),
        family_sharing=None,
        takeaways=None,
        themes=(),
        escalation=None,
    )


def test_a_long_hostile_record_is_split_within_limits_and_pings_nobody() -> None:
    from handlers.base.messages import RecordBlock

    view = _hostile_record()
    pages = render_message(Message(text="Record", blocks=(RecordBlock(view),)))  # type: ignore[arg-type]
    assert len(pages) > 1  # 14 questions x 3 long comments cannot fit in one message
    for page in pages:
        assert len(page.blocks) <= MAX_BLOCKS
        total = 0
        for block in page.blocks:
            text = block["text"]["text"]
            assert len(text) <= 3000
            assert not UNSAFE.search(text), text[:200]
            total += len(text)
        assert total <= 13_000
    everything = "".join(b["text"]["text"] for p in pages for b in p.blocks)
    assert "{{ 7" in everything and "49" not in everything  # shown, never evaluated
    assert everything.count("&lt;!channel&gt;") == 14 * 3 * 40


def test_a_surface_that_must_be_cut_says_how_much_was_left_out() -> None:
    from bot.platforms.slack.render import render_blocks
    from handlers.base.messages import Message, Paragraph

    message = Message("long", tuple(Paragraph((f"line {i}",)) for i in range(130)))
    blocks = render_blocks(message, 100)
    assert len(blocks) == 100
    assert blocks[-1]["type"] == "context"
    assert "31 more items could not be shown" in blocks[-1]["elements"][0]["text"]


def test_a_record_summary_too_big_for_one_message_becomes_its_brief_form() -> None:
    from bot.platforms.slack.render import render_message
    from handlers.base.messages import (
        Context,
        Heading,
        Message,
        Paragraph,
        RecordBlock,
        RecordSummary,
    )

    huge = tuple(Paragraph(("word " * 500,)) for _ in range(60))
    brief = (Heading("Record · AB-1234"), Context(("The full record is in the Word file.",)))
    summary = RecordSummary("Record · AB-1234", (brief[0], *huge), brief)
    # The summary carries everything the adapters show; the full view is not needed here.
    block = RecordBlock(view=None, summary=summary)  # type: ignore[arg-type]
    [only] = render_message(Message("Record · AB-1234", (block,)))
    assert [b["type"] for b in only.blocks] == ["header", "context"]
    assert "Word file" in only.blocks[1]["elements"][0]["text"]
