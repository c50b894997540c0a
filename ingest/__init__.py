"""Read, validate and normalise signup, usage and label records; generate demo scenarios."""
