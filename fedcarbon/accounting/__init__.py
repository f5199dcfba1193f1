"""Carbon accounting: activity records, units, emission factors, GWP, the footprint engine, PACT.

Calculation follows the GHG Protocol Corporate Standard, Scope 2 Guidance and Scope 3 Standard;
product footprints follow ISO 14067 and the PACT data model. Import the concrete modules
(``records``, ``engine``, ``factors``...) directly; this package re-exports nothing so that
importing it stays cheap.
"""
