"""When supervision is due and what the sweep sends.

Rules: ``calendar`` (working days, office hours), ``due`` (when each supervision is due and
which nudge belongs to which day), ``group_state`` (where a group stands today; the planner's
bookmark). Kinds of delivery, each with its due rule and its message: ``channel_nudges``,
``officer_reports``, ``member_reminders``, ``action_reminders``; ``kinds`` is their registry and
``deliveries`` what they share. ``planned_date`` is the facilitator's *Pick a date*.
"""
