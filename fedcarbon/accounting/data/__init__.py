"""Built-in emission factor datasets (CSV) and their manifest; see ``datasets.json``."""
