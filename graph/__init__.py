"""The library: engines, loading, detection, casework, reports and the demo (see the README's Layout)."""
