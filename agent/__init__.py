"""The fedcarbon agent: runs on a participant's premises, computes and encrypts locally."""
