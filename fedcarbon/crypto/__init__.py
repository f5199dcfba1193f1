"""Paillier encryption as fedcarbon uses it: fixed-point encoding, slot packing, vectors, threshold keys."""
