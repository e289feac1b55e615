"""Slack adapter (slack-bolt): Events API, interactivity and Socket Mode in; Block Kit out."""
