"""Text models: category, kind and urgency from request text; place names; text similarity."""
