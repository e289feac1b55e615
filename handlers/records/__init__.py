"""The record of a session: building and rendering it, its files, the trajectory across sessions."""
