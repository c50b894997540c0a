"""The demo: a generated scenario through the whole pipeline, with a demo analyst team."""
