"""Core groups: registering a channel, its people and roles, bulk import."""
