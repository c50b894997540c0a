"""Read models for the dashboard and the weekly review; nothing here writes to the store."""
