"""The fake TWS gateway."""
