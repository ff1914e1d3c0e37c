"""The API client of tests/api, for the tests that go through HTTP (templates are loaded for every test)."""

from tests.api.conftest import api, night  # noqa: F401
