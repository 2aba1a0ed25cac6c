"""Rules for what Azure refuses (or silently changes) at deployment although the schemas accept it.

Regions and zones, gateway SKUs Azure still creates, peerings, address ranges, brownfield
gateways. Each rule cites its source; facts-2026-12 is the shared, verified facts sheet.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Network

from . import facts, regions
from .errors import Problem
from .model import Model
from .rulebook import rule


def _p(path, message: str) -> Problem:
    return Problem(path, message, "")


# ---------------------------------------------------------------- regions (facts-2026-12 §1)
@rule("region-unknown", "A region a typo away from an Azure region is refused, with 'did you mean'.")
def _region_unknown(model: Model) -> Iterator[Problem]:
    for vnet in model.vnets:
        close = regions.typo_of(vnet.region)
        if close is not None:
            yield _p(
                vnet.path + ("region",),
                f"'{vnet.region}' is not an Azure region; did you mean '{close}' ({regions.REGIONS[close].display_name})?",
            )


@rule(
    "region-unlisted",
    "A region missing from Azure's public list (restricted, new, sovereign) is rendered without zones (warning).",
    "warning",
)
def _region_unlisted(model: Model) -> Iterator[Problem]:
    for vnet in model.vnets:
        if vnet.region not in regions.REGIONS and regions.typo_of(vnet.region) is None:
            yield _p(
                vnet.path + ("region",),
                f"'{vnet.region}' is not in Azure's public region list (https://learn.microsoft.com/azure/reliability/regions-list); "
                "gen renders its public IPs without zones; check the name with 'Get-AzLocation'",
            )


# ---------------------------------------------------------------- gateway SKUs (facts-2026-12 §2.1)
# https://learn.microsoft.com/azure/vpn-gateway/gateway-sku-consolidation: since November 2025 Azure
# creates no non-AZ VpnGw1-5 gateway, and an existing one "will no longer allow configuration changes"
# until it is migrated to its AZ SKU (same family: no downtime). Standard and HighPerformance are
# retired and were migrated by Azure (FAQ, https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq).
@rule("sku-retired", "Standard and HighPerformance are retired: refused, naming the AZ SKU Azure migrated them to.")
def _sku_retired(model: Model) -> Iterator[Problem]:
    for gw in model.gateways:
        if gw.sku in facts.LEGACY_MIGRATED_TO:
            target = facts.LEGACY_MIGRATED_TO[gw.sku]
            yield _p(
                gw.path + ("sku",),
                f"{gw.sku} is retired and Azure has migrated such gateways to {target}; use sku: {target}",
            )


@rule("sku-not-creatable", "A new gateway uses a SKU Azure still creates (no non-AZ VpnGw1-5).")
def _sku_not_creatable(model: Model) -> Iterator[Problem]:
    for gw in model.gateways:
        if gw.sku in facts.NON_AZ_SKUS and not gw.existing:
            yield _p(
                gw.path + ("sku",),
                f"Azure no longer creates non-AZ {gw.sku} gateways (since November 2025); use sku: {gw.sku}AZ",
            )


@rule(
    "sku-retiring",
    "An existing non-AZ VpnGw1-5 gateway works but must be migrated to its AZ SKU (warning).",
    "warning",
)
def _sku_retiring(model: Model) -> Iterator[Problem]:
    for gw in model.gateways:
        if gw.sku in facts.NON_AZ_SKUS and gw.existing and not gw.brownfield_changes:
            yield _p(
                gw.path + ("sku",),
                f"non-AZ {gw.sku} is being retired (September 2026) and accepts no configuration change; "
                f"migrate the gateway to {gw.sku}AZ (no downtime within the family) and set sku: {gw.sku}AZ",
            )


@rule(
    "sku-non-az-change",
    "No change (BGP ASN, active-active) is asked of an existing non-AZ gateway: Azure refuses it until the AZ upgrade.",
)
def _sku_non_az_change(model: Model) -> Iterator[Problem]:
    for gw in model.gateways:
        if gw.sku in facts.NON_AZ_SKUS and gw.brownfield_changes:
            what = " and ".join(gw.brownfield_changes)
            yield _p(
                gw.path + ("sku",),
                f"existing non-AZ {gw.sku} gateway: Azure refuses configuration changes ({what}) until it is "
                f"migrated to {gw.sku}AZ; migrate it (no downtime within the family), then set sku: {gw.sku}AZ",
            )


# ---------------------------------------------------------------- sites
@rule("site-asn-needed", "A site has an ASN when one of its connections uses BGP (static sites need none).")
def _site_asn_needed(model: Model) -> Iterator[Problem]:
    bgp_sites = {sc.site.name for sc in model.site_connections if sc.bgp}
    for site in model.sites:
        if site.asn is None and site.name in bgp_sites:
            yield _p(
                site.path,
                f"site '{site.name}' has a BGP connection but no asn; add asn (private 64512-65514) or set bgp: false on its connections",
            )


# ---------------------------------------------------------------- brownfield
@rule(
    "brownfield-gateway-change",
    "A change asked of an existing gateway is applied only by the PowerShell scripts, never by ARM/Bicep (warning).",
    "warning",
)
def _brownfield_gateway_change(model: Model) -> Iterator[Problem]:
    for gw in model.gateways:
        if gw.brownfield_changes and gw.sku not in facts.NON_AZ_SKUS:
            yield _p(
                gw.path,
                f"existing gateway '{gw.name}': ARM and Bicep never modify it, so {' and '.join(gw.brownfield_changes)} "
                "is applied only by the PowerShell scripts (step 'VPN gateways', 30-45 minutes); the runbook has them run before stage 1",
            )


# Azure cannot change a gateway's generation in place: a resize stays within its generation and
# Gen1 to Gen2 is a migration (https://learn.microsoft.com/azure/vpn-gateway/gateway-sku-upgrade,
# upgrade matrix; facts-2026-12 §2.1). For an existing gateway the inventory's generation can only be
# checked, so the PowerShell preflight reads it and stops before changing anything when it differs.
@rule(
    "brownfield-generation",
    "A generation given for an existing gateway is only checked (PowerShell preflight), never changed (warning).",
    "warning",
)
def _brownfield_generation(model: Model) -> Iterator[Problem]:
    for gw in model.gateways:
        if gw.brownfield_checks:
            yield _p(
                gw.path + ("generation",),
                f"existing gateway '{gw.name}': Azure cannot change a gateway's generation in place, so generation: "
                f"{gw.generation} is only checked: the PowerShell preflight stops, with nothing changed, when the "
                "gateway is another generation (ARM and Bicep do not check it); remove generation or set the gateway's own",
            )


# ---------------------------------------------------------------- refusals Azure makes
# https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq#what-address-ranges-can-i-use-in-my-virtual-networks
VNET_FORBIDDEN = {
    IPv4Network("224.0.0.0/4"): "multicast",
    IPv4Network("255.255.255.255/32"): "broadcast",
    IPv4Network("127.0.0.0/8"): "loopback",
    IPv4Network("169.254.0.0/16"): "link-local",
    IPv4Network("168.63.129.16/32"): "Azure's internal DNS and health-probe address",
}


@rule(
    "vnet-range-forbidden", "No VNet range overlaps what Azure forbids (224.0.0.0/4, 127.0.0.0/8, 169.254.0.0/16, ...)."
)
def _vnet_range_forbidden(model: Model) -> Iterator[Problem]:
    for vnet in model.vnets:
        for k, space in enumerate(vnet.address_space):
            for forbidden, what in VNET_FORBIDDEN.items():
                if space.overlaps(forbidden):
                    yield _p(
                        vnet.path + ("address_space", k),
                        f"{space} overlaps {forbidden} ({what}), which Azure does not allow in a VNet; use a private range",
                    )


# https://learn.microsoft.com/azure/load-balancer/load-balancer-custom-probe-overview (azure-facts S48):
# HTTP(S) probes cannot use these ports.
HTTP_PROBE_FORBIDDEN_PORTS = frozenset({19, 21, 25, 70, 110, 119, 143, 220, 993})


@rule(
    "lb-probe-port",
    "HTTP and HTTPS probes avoid the ports Azure refuses for them (19, 21, 25, 70, 110, 119, 143, 220, 993).",
)
def _lb_probe_port(model: Model) -> Iterator[Problem]:
    for lb in model.load_balancers:
        for probe in lb.probes:
            if probe.protocol in ("Http", "Https") and probe.port in HTTP_PROBE_FORBIDDEN_PORTS:
                yield _p(
                    probe.path + ("port",),
                    f"Azure does not allow {probe.protocol} probes on port {probe.port}; use another port or a Tcp probe",
                )


@rule("apipa-second-list", "A single-instance gateway has one list of APIPA addresses (a second one would be dropped).")
def _apipa_second_list(model: Model) -> Iterator[Problem]:
    for gw in model.gateways:
        if gw.apipa_lists > len(gw.instances):
            yield _p(
                gw.path + ("bgp", "apipa_addresses", len(gw.instances)),
                f"gateway '{gw.name}' has {len(gw.instances)} instance(s) but {gw.apipa_lists} APIPA lists; "
                "remove the second list or set active_active: true",
            )


# ---------------------------------------------------------------- subnets: NSGs, route tables, delegations
# azure-facts S22 (MicrosoftDocs/azure-docs includes/vpn-gateway-no-nsg-include.md) and
# https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-about-vpn-gateway-settings#gwsub:
# no NSG on GatewaySubnet, no 0.0.0.0/0 user-defined route there, BGP route propagation stays on.
def _subnets(model: Model):
    for vnet in model.vnets:
        for subnet in vnet.subnets:
            yield vnet, subnet


@rule("gateway-subnet-nsg", "GatewaySubnet has no NSG (Azure does not support one there).")
def _gateway_subnet_nsg(model: Model) -> Iterator[Problem]:
    for _vnet, subnet in _subnets(model):
        if subnet.name == facts.GATEWAY_SUBNET and subnet.nsg is not None:
            yield _p(
                subnet.nsg.path,
                "Azure does not support a network security group on GatewaySubnet (the gateway stops working); remove nsg",
            )


@rule(
    "gateway-subnet-route",
    "GatewaySubnet's route table has no 0.0.0.0/0 route and keeps BGP route propagation (Azure's rules).",
)
def _gateway_subnet_route(model: Model) -> Iterator[Problem]:
    for _vnet, subnet in _subnets(model):
        table = subnet.route_table
        if subnet.name != facts.GATEWAY_SUBNET or table is None:
            continue
        for route in table.routes:
            if route.prefix.prefixlen == 0:
                yield _p(
                    route.path + ("prefix",),
                    "Azure does not support a 0.0.0.0/0 route on GatewaySubnet; remove the route or use narrower prefixes",
                )
        if table.disable_bgp_route_propagation:
            yield _p(
                table.path + ("disable_bgp_route_propagation",),
                "BGP route propagation must stay enabled on GatewaySubnet; remove disable_bgp_route_propagation",
            )


@rule("gateway-subnet-delegation", "GatewaySubnet is delegated to no service.")
def _gateway_subnet_delegation(model: Model) -> Iterator[Problem]:
    for _vnet, subnet in _subnets(model):
        if subnet.name == facts.GATEWAY_SUBNET and subnet.delegations:
            yield _p(
                subnet.path + ("delegations",),
                "GatewaySubnet is reserved for the VPN gateway and cannot be delegated to a service; remove delegations",
            )


@rule(
    "subnet-existing-vnet",
    "NSGs, route tables, service endpoints and delegations are given only on subnets of VNets gen creates.",
)
def _subnet_existing_vnet(model: Model) -> Iterator[Problem]:
    for vnet, subnet in _subnets(model):
        if not vnet.existing:
            continue
        for key, value in (
            ("nsg", subnet.nsg),
            ("route_table", subnet.route_table),
            ("service_endpoints", subnet.service_endpoints),
            ("delegations", subnet.delegations),
        ):
            if value:
                yield _p(
                    subnet.path + (key,),
                    f"VNet '{vnet.name}' is existing: ARM, Bicep and PowerShell never modify its subnets, so {key} "
                    "would not be applied; remove it, or attach it in the portal",
                )


# https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview#user-defined:
# a next hop IP address only with next hop type VirtualAppliance, which needs one.
@rule("route-next-hop-ip", "A VirtualAppliance route has next_hop_ip; other next hops have none.")
def _route_next_hop_ip(model: Model) -> Iterator[Problem]:
    for _vnet, subnet in _subnets(model):
        for route in subnet.route_table.routes if subnet.route_table else ():
            if route.next_hop == "VirtualAppliance" and route.next_hop_ip is None:
                yield _p(route.path, "a VirtualAppliance route needs next_hop_ip (the appliance's private address)")
            elif route.next_hop != "VirtualAppliance" and route.next_hop_ip is not None:
                yield _p(
                    route.path + ("next_hop_ip",),
                    f"next_hop_ip is only for VirtualAppliance routes, not {route.next_hop}; remove it",
                )


# https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#security-rules:
# priority 100-4096, unique within the NSG for each direction.
@rule("nsg-priority-unique", "Security rules of one NSG have distinct priorities per direction.")
def _nsg_priority_unique(model: Model) -> Iterator[Problem]:
    for _vnet, subnet in _subnets(model):
        seen: dict[tuple[str, int], str] = {}
        for r in subnet.nsg.rules if subnet.nsg else ():
            key = (r.direction, r.priority)
            if key in seen:
                yield _p(
                    r.path + ("priority",),
                    f"{r.direction} rule '{r.name}' has priority {r.priority} like rule '{seen[key]}'; give it another priority",
                )
            else:
                seen[key] = r.name


# Azure refuses '*' and service tags in the plural sourceAddressPrefixes/destinationAddressPrefixes
# (SecurityRuleParameterContainsUnsupportedValue: "cannot specify existing VIRTUALNETWORK, INTERNET,
# AZURELOADBALANCER, '*' or system tags", e.g. hashicorp/terraform-provider-azurerm#5617), and
# https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#security-rules
# lists a service tag or '*' as one value: they stand alone in their list.
@rule("nsg-address-alone", "In a security rule, '*' or a service tag is the only value of its list.")
def _nsg_address_alone(model: Model) -> Iterator[Problem]:
    for _vnet, subnet in _subnets(model):
        for r in subnet.nsg.rules if subnet.nsg else ():
            for key, values in (
                ("source", r.source),
                ("destination", r.destination),
                ("source_ports", r.source_ports),
                ("destination_ports", r.destination_ports),
            ):
                if len(values) < 2:
                    continue
                for k, value in enumerate(values):
                    if value == "*" or value[:1].isalpha():
                        yield _p(
                            r.path + (key, k),
                            f"'{value}' must be the only value of {key} (Azure refuses '*' and service tags in a list "
                            "of several); split the rule in two or list prefixes only",
                        )
