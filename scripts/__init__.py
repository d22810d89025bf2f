"""Development tools of the repository (not part of the installed ``orca_nb`` package)."""
