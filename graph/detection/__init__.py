"""Detection: from shared identifiers and co-activity to scored, explained rings (``pipeline.detect``)."""
