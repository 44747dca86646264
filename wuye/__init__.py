"""wuye (物业): an open platform for smart property management.

Sub-packages are the modules of the design; see ARCHITECTURE.md.
"""

__version__ = "0.1.0"
