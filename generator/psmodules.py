"""The two PowerShell modules the scripts target, and what this inventory needs that one cannot do.

One table row per module: cmdlet prefix and which features exist (AzureRM 6.13 vs Az: shared
docs/azure-facts.md section 7, sources S39-S43 there; the cmdlet catalogs in shared/reference).
`limitations(model, module)` is used by the PowerShell target (the script's preflight section)
and by the `azurerm-*` rules of `gen validate`, so both say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import facts
from .errors import Path
from .model import Model


@dataclass(frozen=True, slots=True)
class PsModule:
    key: str  # file name part: deploy.<key>.ps1
    title: str  # for people: "AzureRM 6.13", "Az"
    prefix: str  # cmdlet noun prefix: New-<prefix>VirtualNetwork
    requires: tuple[str, ...]  # modules for '#Requires -Modules'
    gateway_skus: frozenset[str]  # -GatewaySku accepted values (VPN SKUs)
    generation: bool  # -VpnGatewayGeneration
    connection_protocol: bool  # -ConnectionProtocol IKEv1/IKEv2
    dpd: bool  # -DpdTimeoutInSeconds
    connection_mode: bool  # -ConnectionMode
    custom_apipa: bool  # -IpConfigurationBgpPeeringAddresses / -GatewayCustomBgpIpAddress
    ha_ports: bool  # New-*LoadBalancerRuleConfig -Protocol All
    custom_routes: bool  # Set-*VirtualNetworkGateway -CustomRoute (P2S custom routes passed back on updates)
    ip_pools: bool  # backend pools with members by IP address (PSLoadBalancerBackendAddress)
    ike_gcm: bool  # IKE encryption GCMAES128/GCMAES256 possible (through a PSIpsecPolicy object, see below)
    lng_fqdn: bool  # New-*LocalNetworkGateway -Fqdn (a device endpoint given by DNS name)
    keyvault: str  # the module whose Get-<prefix>KeyVaultSecret reads Key Vault keys ("": the script asks)

    def ipsec_policy_cmdlet(self, ike_encryption: str) -> bool:
        """Whether New-*IpsecPolicy accepts this -IkeEncryption.

        Its ValidateSet stops at AES256 in both modules (both catalogs; Azure/azure-powershell#28945),
        although the API takes GCMAES128/256; the Az script then builds the PSIpsecPolicy object itself.
        """
        return not ike_encryption.startswith("GCM")


AZURERM = PsModule(
    key="azurerm",
    title="AzureRM 6.13",
    prefix="AzureRm",
    requires=("AzureRM.Profile", "AzureRM.Resources", "AzureRM.Network"),
    gateway_skus=facts.AZURERM_SKUS,
    generation=False,
    connection_protocol=False,
    dpd=False,
    connection_mode=False,
    custom_apipa=False,
    ha_ports=False,  # S43 documents only Tcp and Udp
    custom_routes=False,  # no -CustomRoute in AzureRM 6.13 (facts-2026-12 section 4)
    ip_pools=False,  # IP-based pools: API 2020-04-01 and Az.Network 3.x, after AzureRM's last release
    keyvault="",  # AzureRM.KeyVault names it Get-AzureKeyVaultSecret, outside the AzureRm prefix: asked for
    ike_gcm=False,  # not attempted: unknown whether the 2018 API behind AzureRM 6.13 takes GCM for IKE
    # -Fqdn came with Az.Network in 2020 (Azure/azure-powershell PR 11482); New-AzureRmLocalNetworkGateway
    # 6.13.0 has only -GatewayIpAddress (shared cmdlet catalog, azurermps-6.13.0 help page)
    lng_fqdn=False,
)
AZ = PsModule(
    key="az",
    title="Az",
    prefix="Az",
    requires=("Az.Accounts", "Az.Resources", "Az.Network"),
    gateway_skus=frozenset(facts.GATEWAY_SKUS),
    generation=True,
    connection_protocol=True,
    dpd=True,
    connection_mode=True,
    custom_apipa=True,
    ha_ports=True,
    custom_routes=True,
    ip_pools=True,
    ike_gcm=True,
    lng_fqdn=True,  # New-AzLocalNetworkGateway, parameter set ByLocalNetworkGatewayFqdn
    # https://learn.microsoft.com/powershell/module/az.keyvault/get-azkeyvaultsecret (SecretValue: SecureString)
    keyvault="Az.KeyVault",
)
MODULES: tuple[PsModule, ...] = (AZURERM, AZ)


@dataclass(frozen=True, slots=True)
class Limitation:
    """Something the inventory needs that the module cannot do.

    `stops`: the script refuses to run (no close form exists); otherwise it uses `fallback`.
    """

    path: Path
    message: str
    stops: bool
    fallback: str = ""


def limitations(model: Model, m: PsModule) -> list[Limitation]:
    """Every gap between the inventory and module `m`, in inventory order."""
    found: list[Limitation] = []
    for gw in model.gateways:
        if gw.sku not in m.gateway_skus and (not gw.existing or gw.active_active):
            found.append(
                Limitation(
                    gw.path + ("sku",),
                    f"gateway '{gw.name}': {m.title} -GatewaySku does not accept {gw.sku} (VpnGw3AZ is the largest it knows)",
                    True,
                )
            )
        elif not gw.existing and not m.generation and gw.generation != "Generation1":
            found.append(
                Limitation(
                    gw.path + ("generation",),
                    f"gateway '{gw.name}': {m.title} has no -VpnGatewayGeneration, so {gw.sku} is created as Generation1, not {gw.generation} (lower throughput; the generation cannot be changed later)",
                    False,
                    "Generation1",
                )
            )
        if not gw.existing and gw.bgp and not m.custom_apipa and any(inst.apipa for inst in gw.instances):
            found.append(
                Limitation(
                    gw.path + ("bgp", "apipa_addresses"),
                    f"gateway '{gw.name}': {m.title} cannot set custom APIPA BGP addresses",
                    True,
                )
            )
    for d in model.devices:
        if d.fqdn and not m.lng_fqdn:
            found.append(
                Limitation(
                    d.path + ("fqdn",),
                    f"device '{d.name}': {m.title} New-{m.prefix}LocalNetworkGateway has no -Fqdn, so its local network gateway cannot be given the DNS name {d.fqdn}; use the Az script, ARM or Bicep",
                    True,
                )
            )
    for c in model.connections:
        if c.ike_version != "IKEv2" and not m.connection_protocol:
            found.append(
                Limitation(
                    c.path + ("ike_version",),
                    f"connection '{c.name}': {m.title} has no -ConnectionProtocol; Azure would use IKEv2, not {c.ike_version}",
                    True,
                )
            )
        if c.dpd_timeout_seconds != facts.DEFAULT_DPD_TIMEOUT_SECONDS and not m.dpd:
            found.append(
                Limitation(
                    c.path + ("dpd_timeout_seconds",),
                    f"connection '{c.name}': {m.title} has no -DpdTimeoutInSeconds; Azure keeps its default {facts.DEFAULT_DPD_TIMEOUT_SECONDS} s instead of {c.dpd_timeout_seconds} s",
                    False,
                    f"{facts.DEFAULT_DPD_TIMEOUT_SECONDS} s",
                )
            )
        if c.connection_mode != "Default" and not m.connection_mode:
            found.append(
                Limitation(
                    c.path + ("connection_mode",),
                    f"connection '{c.name}': {m.title} has no -ConnectionMode; Azure both initiates and responds instead of {c.connection_mode}",
                    False,
                    "Default",
                )
            )
        if c.custom_bgp_ips and not m.custom_apipa:
            found.append(
                Limitation(
                    c.path,
                    f"connection '{c.name}': {m.title} cannot peer BGP with the APIPA address {c.device.bgp_ip} (no -GatewayCustomBgpIpAddress)",
                    True,
                )
            )
        if c.policy.custom and not m.ipsec_policy_cmdlet(c.policy.ike_encryption) and not m.ike_gcm:
            found.append(
                Limitation(
                    c.path + ("ipsec_policy", "ike_encryption"),
                    f"connection '{c.name}': {m.title} cannot set IKE encryption {c.policy.ike_encryption} (New-{m.prefix}IpsecPolicy stops at AES256)",
                    True,
                )
            )
    seen_links: set[Path] = set()
    for x in model.links:
        if (
            x.policy.custom
            and not m.ipsec_policy_cmdlet(x.policy.ike_encryption)
            and not m.ike_gcm
            and x.path not in seen_links
        ):
            seen_links.add(x.path)
            found.append(
                Limitation(
                    x.path + ("ipsec_policy", "ike_encryption"),
                    f"VNet-to-VNet link '{x.name}' (both directions): {m.title} cannot set IKE encryption {x.policy.ike_encryption} (New-{m.prefix}IpsecPolicy stops at AES256)",
                    True,
                )
            )
    for s in model.secrets:
        if s.keyvault is not None and not m.keyvault:
            found.append(
                Limitation(
                    s.path + ("keyvault",),
                    f"pre-shared key {s.parameter}: {m.title} does not read Key Vault {s.keyvault.vault}",
                    False,
                    f"the key passed as -{s.parameter} or typed when asked",
                )
            )
    for lb in model.load_balancers:
        for pool in lb.pools:
            if pool.addresses and not m.ip_pools:
                found.append(
                    Limitation(
                        pool.path + ("addresses",),
                        f"load balancer '{lb.name}' pool '{pool.name}': {m.title} has no IP-based backend pools (members by IP address came with Az)",
                        True,
                    )
                )
        for r in lb.rules:
            if r.ha_ports and not m.ha_ports:
                found.append(
                    Limitation(
                        r.path + ("ha_ports",),
                        f"load balancer '{lb.name}' rule '{r.name}': {m.title} documents only Tcp and Udp for -Protocol; HA ports need All",
                        True,
                    )
                )
    return found
