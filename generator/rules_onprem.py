"""Rules for the on-prem device snippets (router-facts.md section 9) and platform capabilities.

A platform that cannot do what the inventory asks is refused here, with what to change, rather
than rendered without it. Rules satisfied by construction (any-to-any selectors for route-based
tunnels, lifetimes below Azure's, MSS 1350, multihop + /32 routes, no passive BGP on APIPA) are
pinned by tests of the rendered snippets instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from . import crypto
from .errors import Problem
from .model import Model
from .rules import rule

DPD_RECOMMENDED = (30, 45)  # seconds (router-facts R5)


def _p(path, message: str) -> Problem:
    return Problem(tuple(path), message, "")


@rule(
    "onprem-platform-crypto",
    "Every device can do its connection's IKE/IPsec algorithms (one vendor table per platform in crypto.py).",
)
def _platform_crypto(model: Model) -> Iterator[Problem]:
    for conn in model.connections:
        platform = conn.device.platform
        for name, value in crypto.unsupported(platform, conn.policy):
            path = conn.path + ("ipsec_policy", name) if conn.policy.custom else conn.path
            if (
                platform == "juniper_srx"
                and name == "ike_integrity"
                and value in crypto.VENDORS[platform].ike_integrity
            ):
                prf = crypto.JUNOS_GCM_PRF[conn.policy.ike_encryption]
                message = (
                    f"device '{conn.device.name}' (juniper_srx) derives the IKE PRF from {conn.policy.ike_encryption}: "
                    f"set ike_integrity to {prf}"
                )
            else:
                message = (
                    f"device '{conn.device.name}' ({platform}) cannot use {name} {value}; "
                    f"choose one of {', '.join(getattr(crypto.VENDORS[platform], name))}"
                )
            yield _p(path, message)


@rule("onprem-ike-version", "Device snippets are IKEv2 (route-based VTI); IKEv1 connections are refused.")
def _ike_version(model: Model) -> Iterator[Problem]:
    for conn in model.connections:
        if conn.ike_version != "IKEv2" and conn.device is conn.site.devices[0]:
            yield _p(
                conn.path + ("ike_version",),
                f"the device snippets use IKEv2 only; set ike_version: IKEv2 (site '{conn.site.name}')",
            )


@rule(
    "onprem-policy-based-platform",
    "Policy-based traffic selectors need a platform that renders one selector per prefix pair (not cisco_iosxe VTIs).",
)
def _policy_based_platform(model: Model) -> Iterator[Problem]:
    for conn in model.connections:
        if conn.policy_based_traffic_selectors and conn.device.platform == "cisco_iosxe":
            yield _p(
                conn.path + ("policy_based_traffic_selectors",),
                f"device '{conn.device.name}' (cisco_iosxe) is rendered as a route-based VTI with any-to-any "
                "selectors; remove policy_based_traffic_selectors or use juniper_srx / strongswan_frr",
            )


@rule("onprem-dpd-recommended", "DPD timeout is within the recommended 30-45 seconds (warning).", "warning")
def _dpd(model: Model) -> Iterator[Problem]:
    low, high = DPD_RECOMMENDED
    for conn in model.connections:
        if not low <= conn.dpd_timeout_seconds <= high and conn.device is conn.site.devices[0]:
            yield _p(
                conn.path + ("dpd_timeout_seconds",),
                f"DPD timeout {conn.dpd_timeout_seconds} s is outside the recommended {low}-{high} s; devices probe every "
                f"{crypto.dpd_interval(conn.dpd_timeout_seconds)} s",
            )


_JUNOS_UNIT = re.compile(r"^[a-z][a-z0-9/-]*\.\d+$")


@rule("onprem-interface-name", "Junos interface names name a logical unit (ge-0/0/0.0, lo0.0).")
def _junos_interfaces(model: Model) -> Iterator[Problem]:
    for d in model.devices:
        if d.platform != "juniper_srx":
            continue
        for field, value in (("outside_interface", d.outside_interface), ("loopback_interface", d.loopback_interface)):
            if not _JUNOS_UNIT.match(value):
                yield _p(
                    d.path + (field,),
                    f"'{value}' is not a Junos logical interface; write it as <name>.<unit>, e.g. ge-0/0/0.0",
                )
