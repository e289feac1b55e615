"""``coregroup console``: chat with the bot in a terminal, as any person in the core group.

    /as <name>        become someone else (their direct messages are shown)
    /reflect …        a command in the current channel (try /reflect help)
    /channel <name>   move to another channel
    1, 2, 3 …         press a button on your latest message
    /inbox            show your direct messages again
    /home             your home view
    /quit             leave
Anything else is a direct message to the bot (used to answer a question waiting for words).
Forms (set up, comments, close and record) are asked field by field.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.platforms.console.backend import ConsoleBackend, Shown
from bot.platforms.console.demo_history import seed_earlier_supervision
from bot.platforms.console.render import render_form, render_text
from handlers.base.messages import Button, Form

Ask = Callable[[str], str]
Say = Callable[[str], None]


class ConsoleSession:
    def __init__(self, backend: ConsoleBackend, ask: Ask, say: Say, persona: str = "ro") -> None:
        self.backend = backend
        self.ask = ask
        self.say = say
        self.persona = persona
        backend.transport.on_show = self._shown

    def _visible(self, shown: Shown) -> bool:
        return shown.where in (f"@{self.persona}", f"#{self.backend.channel}") or (
            shown.where.startswith("(only you)") and shown.where.endswith(f"@{self.persona}")
        )

    def _shown(self, shown: Shown, edited: bool) -> None:
        if not self._visible(shown):
            return
        where = "you (direct message)" if shown.where == f"@{self.persona}" else shown.where
        tag = "updated" if edited else "new"
        self.say(f"\n── {where} · {tag} ──\n{render_text(shown.message, numbered_buttons=True)}")

    def _say_dm(self, shown: Shown) -> None:
        body = render_text(shown.message, numbered_buttons=True)
        self.say(f"\n── you (direct message) ──\n{body}")

    def _latest_buttons(self) -> list[Button]:
        for shown in reversed(list(self.backend.transport.messages.values())):
            if self._visible(shown) and shown.buttons():
                return shown.buttons()
        return []

    async def _fill(self, form: Form) -> None:
        self.say("\n" + render_form(form))
        values: dict[str, str | list[str] | bool | None] = {}
        for f in form.fields:
            hint = f" ({f.hint})" if f.hint else ""
            options = ""
            if f.options:
                options = " [" + ", ".join(f"{o.value}={o.label}" for o in f.options) + "]"
            optional = " — Enter to skip" if f.optional else ""
            raw = self.ask(f"{f.label}{hint}{options}{optional}: ").strip()
            if not raw:
                continue
            if f.kind == "check":
                values[f.id] = raw.lower() in ("y", "yes", "true", "1")
            elif f.kind in ("multi_select", "users"):
                values[f.id] = [v.strip() for v in raw.split(",") if v.strip()]
            else:
                values[f.id] = raw
        await self.backend.submit(self.persona, values)

    async def handle_line(self, line: str) -> bool:
        """Handle one typed line; False when the person wants to leave."""
        line = line.strip()
        if not line:
            return True
        if line in ("/quit", "/exit"):
            return False
        if line.startswith("/as "):
            self.persona = line[4:].strip().lstrip("@") or self.persona
            self.say(f"You are now @{self.persona}.")
            for shown in self.backend.dms(self.persona)[-3:]:
                self._say_dm(shown)
        elif line.startswith("/channel "):
            self.backend.channel = line[9:].strip().lstrip("#")
            self.say(f"You are in #{self.backend.channel}.")
        elif line == "/inbox":
            for shown in self.backend.dms(self.persona):
                self._say_dm(shown)
        elif line == "/home":
            home = await self.backend.home(self.persona)
            self.say(render_text(home, numbered_buttons=True))
        elif line.startswith("/reflect"):
            await self.backend.command(self.persona, line[len("/reflect") :].strip())
        elif line.isdigit() or line.startswith("/press "):
            number = int(line.split()[-1]) if line.split()[-1].isdigit() else 0
            buttons = self._latest_buttons()
            if not 1 <= number <= len(buttons):
                self.say("There is no button with that number.")
            else:
                await self.backend.press(self.persona, buttons[number - 1])
        else:
            await self.backend.type(self.persona, line)
        form = self.backend.form(self.persona)
        if form is not None:
            await self._fill(form)
        return True


# What each professional answers in the demo, by question id (a question added to the set later
# is skipped), and the comments they add before answering.
YES_NO_ORDER = (
    "risks_current",
    "new_risks",
    "plan_working",
    "blocking_factors",
    "family_aspirations",
    "overly_positive",
    "overly_negative",
    "clear_outcomes",
    "working_together",
    "contingency_adequate",
    "revise_plan",
)
DEMO_CHOICES: dict[str, list[str]] = {
    "sw": ["Yes", "No", "No", "Yes", "Yes", "No", "No", "Yes", "Yes", "Yes", "Yes"],
    "hv": ["Yes", "Yes", "Yes", "No", "Yes", "Not sure", "No", "Yes", "Yes", "Yes", "No"],
    "school": ["Yes", "No", "Yes", "No", "Yes", "No", "No", "Yes", "No", "Not sure", "No"],
    "police": ["Yes", "Yes", "No", "Yes", "Yes", "No", "No", "Not sure", "Yes", "No", "Yes"],
}
DEMO_WORDS: dict[str, dict[str, str]] = {
    "sw": {
        "child_voice": "She says she feels safe at Nan's house.",
        "family_voice": "Mum wants fewer professionals at the house.",
    },
    "hv": {
        "child_voice": "Too young to say much; she is calm and playful with Nan.",
        "family_voice": "Mum says the health visits help.",
    },
    "school": {
        "child_voice": "She told her teacher she likes breakfast club.",
        "family_voice": "Dad has not been in touch with school.",
    },
    "police": {},
}
DEMO_COMMENTS: dict[str, dict[str, str]] = {
    "sw": {"plan_working": "Mum engages, but the home is still chaotic after 5pm."},
    "hv": {
        "new_risks": "A new partner has been seen at the house.",
        "overly_positive": "Are we too reassured by Mum?",
    },
    "school": {"working_together": "We hear about incidents late. Can we agree a same-day call?"},
    "police": {},
}


async def _reflect(b: ConsoleBackend, user: str) -> None:
    """One professional's reflection, question by question, then Submit."""
    choices = dict(zip(YES_NO_ORDER, DEMO_CHOICES[user], strict=True))
    words, comments = DEMO_WORDS[user], DEMO_COMMENTS[user]
    await b.click(user, "Start")
    for question in b.runtime.core.sets.get("appendix1").questions:
        if question.id in comments:
            await b.click(user, "Add a comment")
            await b.submit(user, {"text": comments[question.id]})
        if question.id in choices:
            await b.click(user, choices[question.id])
        elif question.id in words:
            await b.click(user, "Write your answer")
            await b.submit(user, {"text": words[question.id]})
        else:
            await b.click(user, "Skip")
    await b.click(user, "Submit")


async def run_demo_script(backend: ConsoleBackend) -> None:
    """A whole Appendix 1 supervision: four professionals and a Reviewing Officer.

    The group met once before (seeded), so the record shows the trajectory and its chart.
    """
    b = backend
    b.names.update(
        ro="Rita Reid",
        sw="Sam Patel",
        hv="Hana Okafor",
        school="Sol Evans",
        police="PC Dee Morgan",
        chair="Chris Hall",
    )
    await b.command(
        "ro",
        "setup child=AB-1234 registered=2026-01-05 facilitator=@ro chair=@chair "
        "members=@sw:Children's social care;@hv:Health visiting;"
        "@school:Education;@police:Police",
    )
    await seed_earlier_supervision(b, "AB-1234")  # so the record has a trajectory to draw
    await b.command("ro", "")
    for user in DEMO_CHOICES:
        await _reflect(b, user)
    await b.command("ro", "close")
    await b.submit(
        "ro",
        {
            "pos_risks_current": "yes",
            "pos_new_risks": "yes",
            "notes_new_risks": "New partner: police to run checks.",
            "key_new_risks": True,
            "pos_plan_working": "not_sure",
            "notes_plan_working": "Progress at Nan's, but evenings at home are a worry.",
            "key_plan_working": True,
            "pos_working_together": "no",
            "notes_working_together": "School hears about incidents late.",
            "key_working_together": True,
            "notes_child_voice": "She feels safe at Nan's and likes breakfast club.",
            "key_child_voice": True,
            "pos_contingency_adequate": "not_sure",
            "family_sharing": "Sam (social worker) will talk it through with Mum at the visit.",
            "action_1_text": "Police checks on the new partner",
            "action_1_owner": "@police",
            "action_1_due": "2026-12-04",
            "action_2_text": "Agree a same-day call when there is an incident",
            "action_2_owner": "@sw",
            "action_2_due": "2026-12-11",
            "themes": ["professional_disagreement", "communication"],
            "takeaways": "Keep asking what evenings are like for her.",
        },
    )
