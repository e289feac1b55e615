"""Shared by every capability: the core, events in, messages out, errors, access, language."""
