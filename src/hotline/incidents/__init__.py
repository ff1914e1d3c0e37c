"""Incidents: bursts of related tickets in an area, proposed to supervisors, confirmed or dismissed."""
