"""Tamper evidence: Ed25519 signatures, the Merkle transparency log and receipts."""
