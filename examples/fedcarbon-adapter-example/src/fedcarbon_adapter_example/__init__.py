"""Example third-party fedcarbon adapter: utility invoices exported as JSON lines."""
