"""A reflection session: opening it, each member's dialogue, progress, closing, debrief."""
