"""Every Azure name gen derives from the inventory, in one place.

Used by resolve.py (the model holds the names once) and by the Bicep target (symbolic names).
Azure's length limits for these names are checked by the rules (facts-2026-12 §2,
https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftnetwork).
"""

from __future__ import annotations


def gateway(vnet: str) -> str:
    """Default VPN gateway name of a VNet: `<vnet>-gw`."""
    return f"{vnet}-gw"


def nsg(vnet: str, subnet: str) -> str:
    """Default name of a subnet's network security group."""
    return f"{vnet}-{subnet}-nsg"


def route_table(vnet: str, subnet: str) -> str:
    """Default name of a subnet's route table."""
    return f"{vnet}-{subnet}-rt"


def delegation(service: str) -> str:
    """Name of a subnet delegation: the service with '/' as '.' (Microsoft.Web.serverFarms)."""
    return service.replace("/", ".")


def ipconfig(index: int) -> str:
    """IP configuration of gateway instance `index` (0 or 1): `ipconfig1`, `ipconfig2`."""
    return f"ipconfig{index + 1}"


def public_ip(gateway_name: str, index: int) -> str:
    """Public IP of gateway instance `index`: `<gateway>-pip1`, `<gateway>-pip2`."""
    return f"{gateway_name}-pip{index + 1}"


def public_ip_placeholder(gateway_name: str, index: int) -> str:
    """What the router snippets show until the Azure state file gives the public IP."""
    return f"<{public_ip(gateway_name, index)}>"


def bgp_placeholder(gateway_name: str, index: int) -> str:
    """What the router snippets show until the Azure state file gives the instance's BGP address."""
    return f"<{gateway_name}-bgp{index + 1}>"


def site_connection(vnet: str, device: str) -> str:
    """Site-to-site connection of one device to a VNet's gateway: `cn-<vnet>-<device>`."""
    return f"cn-{vnet}-{device}"


def local_gateway(site: str, device: str) -> str:
    """Local network gateway of one device: `lng-<site>-<device>`."""
    return f"lng-{site}-{device}"


def vnet_link(local_vnet: str, remote_vnet: str) -> str:
    """One direction of a VNet-to-VNet connection: `cn-<local>-to-<remote>`."""
    return f"cn-{local_vnet}-to-{remote_vnet}"


def peering(local_vnet: str, remote_vnet: str) -> str:
    """One direction of a VNet peering: `peer-<local>-to-<remote>`."""
    return f"peer-{local_vnet}-to-{remote_vnet}"


def bicep_public_ips(gateway_name: str) -> str:
    """Base of the Bicep symbol of a gateway's looped public IPs."""
    return f"{gateway_name}-pips"
