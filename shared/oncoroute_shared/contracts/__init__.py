"""Event contracts, one module per producing side. `registry` maps CloudEvent types to models."""
