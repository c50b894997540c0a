"""Dashboard pages: thin layouts over ringwatch.dashboard.data and ringwatch.dashboard.charts."""
