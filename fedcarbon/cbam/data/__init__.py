"""Packaged CBAM reference data (see NOTICE.md for sources and licences)."""
