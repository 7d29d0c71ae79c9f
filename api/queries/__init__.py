"""SQL of the API, one module per resource; every query filters by the caller's farms."""
