"""OncoRoute notify: tells each person what they need to know, exactly once."""
