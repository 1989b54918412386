"""The staff site's own pages beside the Django admin: the regional
dashboard with its CSV exports, and counter work."""
