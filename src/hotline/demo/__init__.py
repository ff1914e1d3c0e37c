"""Demo data: staff accounts and synthetic tickets that flow through the real lifecycle."""
