"""Paillier as fedcarbon uses it: fixed-point encoding, packing, vectors, threshold keys."""
