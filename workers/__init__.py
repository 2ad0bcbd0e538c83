"""Background roles: the clustering worker."""
