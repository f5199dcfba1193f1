"""Spend-conversion tables (US CPI-U, annual exchange rates): see ``money.py`` and LICENCES.md."""
