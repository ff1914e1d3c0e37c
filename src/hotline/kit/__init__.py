"""Foundation: database, clock, working-day calendar, errors, identifiers."""
