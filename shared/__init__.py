"""audiochain's common layer: request models, signers, clients, runtime shim and events.

Importing this package (or any module in it) must stay cheap: no clients are built and no environment
variable is read at import time. FC instances pay for every millisecond of cold start.
"""

__version__ = "0.1.0"
