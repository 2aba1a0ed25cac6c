"""gen: one inventory -> Azure ARM/Bicep/PowerShell and matching on-prem router configs."""

__version__ = "0.1.0"
