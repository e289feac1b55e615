"""The terminal adapter: the default for trying the bot, and the fake platform tests use."""
