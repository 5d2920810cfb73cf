"""SmartServer: configs as code, logs and a fleet table for pysmartnode nodes (host code).

See docs/smartserver.md. Run `smartserver --help` (or `python -m smartserver`).
"""

__version__ = "0.1.0"
