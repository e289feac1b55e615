"""Process wiring for the core group reflection bot: settings, CLI, server, scheduler, adapters."""

__version__ = "0.1.0"
