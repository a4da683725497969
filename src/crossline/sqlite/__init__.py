"""crossline's SQLite database backend: Django's, with writers queued by the kernel."""
