"""Slack adapter (Bolt for Python): events and interactions in, Block Kit out."""
