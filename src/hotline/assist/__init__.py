"""Smart assistance at intake and dispatch: suggestions from the text, duplicates, the unit to send to."""
