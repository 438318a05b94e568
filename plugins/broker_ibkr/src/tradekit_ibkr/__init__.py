"""Interactive Brokers for tradekit."""
