"""ringwatch: find, score and explain rings of linked accounts."""
__version__ = "0.1.0"
