"""The site fixture of the page tests (the site over the test database, signing in as a persona)."""

from tests.web.conftest import site  # noqa: F401
