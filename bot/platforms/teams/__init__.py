"""Microsoft Teams adapter (Microsoft 365 Agents SDK): Activity in, Adaptive Card out."""
