"""The terminal adapter: the embedded default for trying the bot, and the fake platform tests use."""
