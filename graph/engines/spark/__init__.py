"""The Spark engine (``--engine spark``): the heavy graph questions in Spark SQL, on a cluster or in local mode."""
