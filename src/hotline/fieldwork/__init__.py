"""Emergency field work (抢收抢种): operations, field tasks, machines, volunteers, grain buyers."""
