"""Users, roles, API tokens and the data scope every ticket query goes through."""
