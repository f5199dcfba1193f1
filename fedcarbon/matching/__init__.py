"""Offline factor matching: ERP purchase lines to NAICS-6 codes with EPA spend-based factors.

Nothing here touches the network: the reference list ships with the package and confirmed
mappings are passed in by the caller (the agent keeps them in its local store).
"""

UNMATCHED_ACTIVITY = "spend.unmatched"
"""Activity of a spend line that has a description but no code yet.

An adapter emits it (with ``ActivityRecord.description``); the agent replaces it with
``spend.naics.<code>`` from a confirmed mapping or an auto-accepted match before computing.
"""
