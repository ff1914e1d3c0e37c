"""Background work: the sweeps as jobs (``jobs``) and the huey queue that runs them (``queue``)."""
