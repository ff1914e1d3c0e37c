"""The staff console and the citizen portal: server-rendered pages (Jinja2 + htmx) in Chinese,
over the same domain services as the JSON API. Static assets ship in the package (no CDN)."""
