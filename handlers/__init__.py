"""Platform-neutral use cases. Handlers take neutral events and return neutral intents."""
