"""One function per workflow stage; each takes a spec dict (paths + config slices)."""
