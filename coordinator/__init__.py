"""The fedcarbon coordinator: enrols participants, collects ciphertexts, releases aggregates."""
