"""Test support shipped for tradekit's own tests and for plugin packages' tests."""
