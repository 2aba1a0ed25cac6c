"""Where each output file lands: one function per family, used by the targets, the runbook,
the cross-side check and the lab."""

from __future__ import annotations

from .model import Device


def device_stem(device: Device) -> str:
    """`onprem/<site>/<device>`: a device's files are this plus each of its platform's suffixes."""
    return f"onprem/{device.site}/{device.name}"


def device_file(device: Device, suffix: str) -> str:
    return device_stem(device) + suffix
