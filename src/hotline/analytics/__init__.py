"""Assessment and insight: 三率 per unit, township and category; rankings; hot spots; dashboards and
reports. Reads only: it aggregates what the workflows wrote, through rollup tables the worker keeps
current (``rollups``)."""
