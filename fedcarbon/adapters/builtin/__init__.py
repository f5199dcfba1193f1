"""Adapters shipped with fedcarbon, registered in the ``fedcarbon.adapters`` entry-point group."""
