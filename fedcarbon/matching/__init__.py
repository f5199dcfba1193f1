"""Offline factor matching: ERP purchase lines to NAICS-6 codes with EPA spend-based factors.

Nothing here touches the network: the reference list ships with the package and confirmed
mappings are passed in by the caller (the agent keeps them in its local store).
"""
