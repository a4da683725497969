"""crossline — screening and care management for physician-guided at-home ketamine programs."""

__version__ = "0.1.0"
