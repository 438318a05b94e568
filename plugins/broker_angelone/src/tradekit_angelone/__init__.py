"""tradekit broker plugin for Angel One SmartAPI."""
