"""Counts in words: '1 tunnel', '2 tunnels' (messages, the plan, the runbook, device headers)."""

from __future__ import annotations


def plural(count: int, word: str, words: str | None = None) -> str:
    """'1 VNet', '3 VNets'; irregular forms as `words` ('1 value is', '2 values are')."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


# plan.KINDS labels (plural: they are JSON keys) in the singular, for '1 public IP'
SINGULAR = {
    "network security groups": "network security group",
    "route tables": "route table",
    "virtual networks": "virtual network",
    "public IPs": "public IP",
    "VPN gateways": "VPN gateway",
    "local network gateways": "local network gateway",
    "site-to-site connections": "site-to-site connection",
    "load balancers": "load balancer",
    "VNet-to-VNet connections": "VNet-to-VNet connection",
    "peerings": "peering",
}


def counted(count: int, label: str) -> str:
    """A plan label with its count: '1 virtual network', '2 virtual networks'."""
    return plural(count, SINGULAR.get(label, label), label)
