"""Plugin system and built-in plugins."""
