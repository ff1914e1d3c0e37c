"""Reference data: regions, handling units, categories, time limits, the dispatch catalogue, holidays."""
