"""``python -m fedcarbon`` runs the CLI."""

from fedcarbon.cli import main

main()
