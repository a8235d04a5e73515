"""Code a user takes away: repro bundles and porting programs."""
