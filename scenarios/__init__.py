"""Demo scenarios with ground truth: populations, rings, traffic and weekly fates, written as contract files."""
