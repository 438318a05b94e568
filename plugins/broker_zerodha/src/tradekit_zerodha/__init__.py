"""Zerodha Kite Connect broker for tradekit."""
