"""EU Carbon Border Adjustment Mechanism: embedded emissions of goods (Regulation (EU)
2023/956, Annex IV; Implementing Regulation (EU) 2025/2547), default values (Implementing
Regulation (EU) 2025/2621) and the importer's yearly declaration.

Pure calculation over values; reading files lives in ``installation``, ``defaults`` and
``declaration``, the command line in ``cli``.
"""
