"""The JSON API (/api/v1) with OpenAPI: a thin edge over the domain services."""
