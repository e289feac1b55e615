"""When supervision is due and what the sweep sends: calendar, due rules, nudges and reminders."""
