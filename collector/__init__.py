"""Hardened ccxt collector for Binance USD-M futures (the journal's first real user)."""
