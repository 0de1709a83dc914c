"""OncoRoute's common library: what several services truly share, and no business rules."""
