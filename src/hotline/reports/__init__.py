"""Briefings (简报): daily, weekly and monthly reports as printable HTML and Excel."""
