"""The command line's commands beyond the core ones, and what all commands share."""
