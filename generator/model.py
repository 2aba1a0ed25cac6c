"""The resolved model: frozen dataclasses, every derived value computed once by resolve.py.

Targets read only this. A value used on both ends of a tunnel (addresses, ASNs, policy, PSK
reference) is one field of `Tunnel`, never recomputed by a template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from .errors import Located, Path


@dataclass(frozen=True, slots=True)
class Deferred:
    """A value Azure assigns at deployment (a gateway public IP or default BGP address).

    Prints as the value when an Azure state file supplied it, else as a placeholder that no
    device accepts, e.g. `<SEA-VNET-gw-pip1>`.
    """

    placeholder: str
    value: str | None = None

    @property
    def known(self) -> bool:
        return self.value is not None

    def __str__(self) -> str:
        return self.value if self.value is not None else self.placeholder


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """An Azure resource: type, name segments and resource group, rendered per target by filters."""

    type: str  # e.g. Microsoft.Network/virtualNetworkGateways/ipConfigurations
    names: tuple[str, ...]
    resource_group: str


@dataclass(frozen=True, slots=True)
class KeyVaultSecret:
    """A Key Vault secret Azure reads at deployment (the key never passes through gen)."""

    subscription: str
    resource_group: str
    vault: str
    secret: str

    @property
    def vault_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.KeyVault/vaults/{self.vault}"
        )


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a pre-shared key comes from; never the key itself."""

    kind: str  # "env" or "file" (where device files get it with --secrets), "keyvault" when only there
    name: str  # variable name or file path as written (vault/secret for "keyvault")
    parameter: str  # the ARM/Bicep/PowerShell parameter that carries it, e.g. pskGenPskDc1
    path: Path = field(default=(), compare=False)  # the first `psk:` that references it (for messages)
    keyvault: KeyVaultSecret | None = None  # Azure reads the key from Key Vault

    @property
    def placeholder(self) -> str:
        """What a device file holds without --secrets: names the variable the user sets (an env
        name is [A-Za-z_][A-Za-z0-9_]*), or for a file the parameter (a path may hold any character)."""
        if self.kind == "env":
            return f"REPLACE_WITH_PSK_FROM_ENV_{self.name}"
        if self.kind == "keyvault":
            return f"REPLACE_WITH_PSK_FROM_KEYVAULT_{self.parameter}"
        return f"REPLACE_WITH_PSK_FROM_FILE_{self.parameter}"

    @property
    def describe(self) -> str:
        if self.keyvault is not None:
            kv = f"keyvault:{self.keyvault.vault}/{self.keyvault.secret}"
            return kv if self.kind == "keyvault" else f"{kv} and {self.kind}:{self.name}"
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class IpsecPolicy:
    """IKE/IPsec parameters in Azure's vocabulary; `custom` is False for Azure's defaults."""

    ike_encryption: str
    ike_integrity: str
    dh_group: str
    ipsec_encryption: str
    ipsec_integrity: str
    pfs_group: str
    sa_lifetime_seconds: int
    sa_datasize_kilobytes: int
    custom: bool


@dataclass(frozen=True, slots=True)
class SecurityRule:
    name: str
    priority: int
    direction: str
    access: str
    protocol: str
    source: tuple[str, ...]
    source_ports: tuple[str, ...]
    destination: tuple[str, ...]
    destination_ports: tuple[str, ...]
    description: str
    path: Path

    @property
    def arm_fields(self) -> tuple[tuple[str, str | tuple[str, ...]], ...]:
        """Address and port properties as ARM wants them: the singular property for one value (the
        only one that takes '*' or a service tag), the plural one for several."""
        pairs = (
            ("sourceAddressPrefix", self.source),
            ("sourcePortRange", self.source_ports),
            ("destinationAddressPrefix", self.destination),
            ("destinationPortRange", self.destination_ports),
        )
        plural = {"sourceAddressPrefix": "sourceAddressPrefixes", "sourcePortRange": "sourcePortRanges"}
        plural |= {
            "destinationAddressPrefix": "destinationAddressPrefixes",
            "destinationPortRange": "destinationPortRanges",
        }
        return tuple((key, values[0]) if len(values) == 1 else (plural[key], values) for key, values in pairs)

    @property
    def shape(self) -> str:
        """What gen manages of the rule, as the PowerShell script's Get-GenNsgRule prints it from Azure."""
        parts = (self.description, str(self.priority), self.direction, self.access, self.protocol)
        lists = (self.source, self.source_ports, self.destination, self.destination_ports)
        return "|".join((*parts, *(",".join(x) for x in lists)))


@dataclass(frozen=True, slots=True)
class Nsg:
    """A subnet's network security group: created from its rules, or an existing one (only associated)."""

    label = "NSG"  # for messages
    ps_noun = "NetworkSecurityGroup"  # Get-Az<noun>

    name: str
    resource_group: str
    region: str
    existing: bool
    rules: tuple[SecurityRule, ...]
    ref: ResourceRef
    path: Path


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    prefix: IPv4Network
    next_hop: str
    next_hop_ip: str | None
    path: Path

    @property
    def shape(self) -> str:
        """What gen manages of the route, as the PowerShell script's Get-GenRoute prints it from Azure."""
        return f"{self.prefix}|{self.next_hop}|{self.next_hop_ip or ''}"


@dataclass(frozen=True, slots=True)
class RouteTable:
    """A subnet's route table: created from its routes, or an existing one (only associated)."""

    label = "route table"
    ps_noun = "RouteTable"

    name: str
    resource_group: str
    region: str
    existing: bool
    disable_bgp_route_propagation: bool
    routes: tuple[Route, ...]
    ref: ResourceRef
    path: Path


@dataclass(frozen=True, slots=True)
class Delegation:
    name: str  # the delegation's name in the subnet (derived from the service)
    service: str  # e.g. Microsoft.Web/serverFarms


@dataclass(frozen=True, slots=True)
class Subnet:
    name: str
    prefix: IPv4Network
    ref: ResourceRef
    path: Path
    nsg: Nsg | None = None
    route_table: RouteTable | None = None
    service_endpoints: tuple[str, ...] = ()
    delegations: tuple[Delegation, ...] = ()


@dataclass(frozen=True, slots=True)
class GatewayInstance:
    """One instance of a VPN gateway (two when active-active)."""

    index: int  # 0 or 1, as Azure numbers them
    ipconfig: ResourceRef
    public_ip_ref: ResourceRef
    public_ip: Deferred
    default_bgp_ip: Deferred
    apipa: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Gateway:
    name: str
    vnet: str
    resource_group: str
    region: str
    sku: str
    generation: str
    generation_given: bool  # the inventory sets generation (else facts.default_generation)
    active_active: bool
    bgp: bool
    asn: int  # Azure's default 65515 without BGP
    existing: bool
    max_connections: int
    apipa_lists: int  # how many apipa_addresses lists the inventory gives (one per instance)
    public_ip_zones: tuple[str, ...]  # zones of its public IPs (regions.public_ip_zones); () = regional
    instances: tuple[GatewayInstance, ...]
    ref: ResourceRef
    subnet_ref: ResourceRef
    path: Path

    @property
    def brownfield_changes(self) -> tuple[str, ...]:
        """What the inventory asks of an existing gateway (only the PowerShell scripts apply it).

        A generation is not among them: Azure cannot change a gateway's generation in place (a resize
        stays within the generation; Gen1 to Gen2 is a migration: facts-2026-12 §2.1,
        https://learn.microsoft.com/azure/vpn-gateway/gateway-sku-upgrade). An existing gateway's
        given generation is a precondition instead (brownfield_checks): the PowerShell preflight
        reads the gateway and stops, with nothing changed, when it is another generation."""
        if not self.existing:
            return ()
        return tuple(what for what, asked in (("a BGP ASN", self.bgp), ("active-active", self.active_active)) if asked)

    @property
    def brownfield_checks(self) -> tuple[str, ...]:
        """What the inventory states of an existing gateway that Azure cannot change in place: the
        PowerShell preflight checks it and stops when the gateway differs (rule brownfield-generation)."""
        return (f"generation {self.generation}",) if self.existing and self.generation_given else ()

    @property
    def converged(self) -> bool:
        """The scripts compare and update some of its properties (all of a new one's; of an existing one, what is asked)."""
        return not self.existing or bool(self.brownfield_changes)


@dataclass(frozen=True, slots=True)
class Vnet:
    name: str
    resource_group: str
    region: str
    address_space: tuple[IPv4Network, ...]
    subnets: tuple[Subnet, ...]
    existing: bool
    gateway: Gateway | None
    ref: ResourceRef
    path: Path


@dataclass(frozen=True, slots=True)
class Device:
    name: str
    site: str
    platform: str
    public_ip: IPv4Address
    fqdn: str | None  # DNS name: the LNG's fqdn and the device's IKE identity (rule device-fqdn)
    local_address: IPv4Address  # outside address on the device (public_ip unless NATed)
    behind_nat: bool
    bgp_ip: IPv4Address | None
    bgp_ip_is_apipa: bool
    outside_interface: str
    loopback_interface: str
    local_gateway_name: str | None  # the inventory's name for its local network gateway (gen import)
    path: Path
    # Platform-specific fields (a platform lists the ones it takes in Platform.device_fields; rule
    # device-field-platform refuses the others): given in the inventory or None.
    security_zones: SecurityZones | None = None
    existing_bgp: bool | None = None  # the router already runs BGP: no global AS / router-id lines
    logical_router: str | None = None  # route in this logical router of an advanced routing engine
    tunnel_base: int = 1  # number of its first tunnel interface (Tunnel<N>, st0.<N>, xfrm<N>, vti<N>)

    @property
    def ike_id(self) -> str:
        """The device's IKE identity: its fqdn when it has one (as its LNG), else its public IP."""
        return self.fqdn or str(self.public_ip)


@dataclass(frozen=True, slots=True)
class SecurityZones:
    """Names of a zone-based firewall's zones the device's snippet attaches to (the site's own)."""

    outside: str  # the zone of outside_interface (IKE arrives here)
    tunnel: str  # the zone the tunnel interfaces (and the BGP loopback) join
    inside: str  # the zone of the site's networks (traffic to and from Azure)


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    location: str
    asn: int | None  # None: a static site (no BGP connection, rule site-asn-needed)
    prefixes: tuple[IPv4Network, ...]
    devices: tuple[Device, ...]
    path: Path
    # BGP route policy of the site (generator/routing.py derives each device's filters from these)
    redundancy: str = "active-active"  # or primary-backup: the first device is the primary
    bgp_advertise: tuple[IPv4Network, ...] = ()  # sent to Azure besides `prefixes`
    bgp_accept: tuple[IPv4Network, ...] = ()  # accepted from Azure besides what Azure legitimately sends
    transit_via_azure: bool = False  # accept other sites' prefixes re-advertised by Azure
    ibgp: bool = False  # bgp.ibgp: an iBGP session between the site's two devices (RoutePolicy.ibgp_peer)


@dataclass(frozen=True, slots=True)
class Tunnel:
    """One IPsec tunnel: an Azure gateway instance <-> an on-prem device, with both ends' values."""

    key: str  # e.g. SEA-VNET-gw.i0~dc1-edge1
    device_index: int  # the device's tunnel number: tunnel_base (default 1) + position (Tunnel1, st0.1, xfrm1)
    connection: str  # Azure connection resource name
    gateway: str
    instance: int
    device: str
    site: str
    azure_public_ip: Deferred
    device_public_ip: IPv4Address
    device_ike_id: str  # the device's fqdn when it has one, else its public IP
    device_ike_fqdn: bool  # device_ike_id is an FQDN (each platform writes its identity type)
    azure_asn: int
    device_asn: int | None
    bgp: bool
    azure_bgp_ip: Deferred | None  # custom APIPA (known) or default GatewaySubnet address (deferred)
    device_bgp_ip: IPv4Address | None
    apipa: bool  # BGP over APIPA: the device must initiate, Azure does not
    psk: SecretRef
    policy: IpsecPolicy
    ike_version: str
    dpd_timeout_seconds: int
    connection_mode: str
    policy_based_traffic_selectors: bool
    local_prefixes: tuple[IPv4Network, ...]  # the site's prefixes (device side)
    remote_prefixes: tuple[IPv4Network, ...]  # the VNet's address space (Azure side)

    @property
    def name(self) -> str:
        """The tunnel's name on devices: Azure connection + gateway instance, e.g. cn-SEA-VNET-dc1-edge1-i0."""
        return f"{self.connection}-i{self.instance}"

    @property
    def device_initiates(self) -> bool:
        """Whether the device opens IKE itself. `connectionMode` InitiatorOnly makes the Azure gateway the
        only initiator, so the device only responds; Default (both) and ResponderOnly (Azure only responds)
        need the device to initiate (https://learn.microsoft.com/azure/templates/microsoft.network/connections).
        BGP is another matter: the device always opens its BGP sessions (never passive), as APIPA requires
        ("Azure VPN Gateway doesn't initiate the BGP peering session", facts-2026-12 §5)."""
        return self.connection_mode != "InitiatorOnly"


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """What one BGP device sends Azure and accepts from it (derived once by generator/routing.py).

    Templates print these lists; the cross-side check compares what each device file says with them.
    Every prefix matches exactly (no `le`/`orlonger`): a more-specific or a default route is denied
    unless listed.
    """

    device: str
    outbound: tuple[IPv4Network, ...]  # the site's prefixes + bgp.advertise
    inbound: tuple[IPv4Network, ...]  # what Azure may legitimately send + bgp.accept
    accept_default: bool  # 0.0.0.0/0 is in inbound (only when bgp.accept lists it)
    max_prefix: int  # inbound maximum-prefix per Azure neighbour (counts accepted prefixes)
    warning_percent: int  # log a warning at this share of max_prefix, before the session reacts
    restart_minutes: int  # the session comes back by itself after this long (prefix limit hit)
    role: str  # "active" (active-active), "primary" or "backup"
    prepend: tuple[int, ...]  # ASNs prepended to the AS path sent to Azure (backup only)
    local_preference: int | None  # set on routes from Azure (backup: lower than the default 100)
    keepalive: int  # Azure's fixed BGP timers, written explicitly
    hold: int
    # bgp.ibgp: the other device of the pair, peered between the two BGP addresses (each device's
    # bgp_ip, on its loopback) with next-hop-self, so routes one learned from Azure are usable by the other
    ibgp_peer: IPv4Address | None = None
    ibgp_peer_name: str = ""


@dataclass(frozen=True, slots=True)
class SiteConnection:
    """One inventory connection, a site <-> a VNet: the settings every device's connection shares.

    Rules about these settings check each SiteConnection once, whatever the number of devices.
    """

    site: Site
    vnet: str
    gateway: Gateway
    psk: SecretRef
    bgp: bool
    ike_version: str
    dpd_timeout_seconds: int
    connection_mode: str
    policy_based_traffic_selectors: bool
    policy: IpsecPolicy
    path: Path


@dataclass(frozen=True, slots=True)
class Connection:
    """A site-to-site connection resource (one per device) and its local network gateway."""

    name: str
    resource_group: str
    region: str
    gateway: Gateway
    device: Device
    settings: SiteConnection  # the inventory connection it belongs to
    lng_name: str
    lng_ref: ResourceRef
    lng_prefixes: tuple[IPv4Network, ...]
    ref: ResourceRef
    custom_bgp_ips: tuple[tuple[ResourceRef, str], ...]  # (gateway ipconfig, APIPA address) per instance
    tunnels: tuple[Tunnel, ...]

    # the shared settings, read through the inventory connection
    site = property(lambda self: self.settings.site)
    vnet = property(lambda self: self.settings.vnet)
    psk = property(lambda self: self.settings.psk)
    bgp = property(lambda self: self.settings.bgp)
    ike_version = property(lambda self: self.settings.ike_version)
    dpd_timeout_seconds = property(lambda self: self.settings.dpd_timeout_seconds)
    connection_mode = property(lambda self: self.settings.connection_mode)
    policy_based_traffic_selectors = property(lambda self: self.settings.policy_based_traffic_selectors)
    policy = property(lambda self: self.settings.policy)
    path = property(lambda self: self.settings.path)


@dataclass(frozen=True, slots=True)
class VnetLink:
    """One direction of a VNet-to-VNet link (a Vnet2Vnet connection resource)."""

    name: str
    resource_group: str
    region: str
    local: Gateway
    remote: Gateway
    ref: ResourceRef
    psk: SecretRef
    bgp: bool
    policy: IpsecPolicy
    path: Path


@dataclass(frozen=True, slots=True)
class Peering:
    """One direction of a VNet peering."""

    name: str
    resource_group: str
    vnet: str
    remote: Vnet
    ref: ResourceRef
    allow_gateway_transit: bool
    use_remote_gateways: bool
    allow_forwarded_traffic: bool
    # The use-remote-gateways side waits for the transit side's peering (facts-2026-12 §3): by
    # dependsOn in the same resource group, else in stage 3, deployed after every stage 2.
    waits_for: ResourceRef | None
    late: bool  # stage 3: waits_for is in another resource group
    path: Path

    @property
    def flag_passes(self) -> tuple[tuple[tuple[str, bool], ...], tuple[tuple[str, bool], ...]]:
        """The peering's flags (PowerShell property names) in the two passes that converge a pair.

        Pass 1 turns gateway transit on and the use of a remote gateway off, pass 2 turns transit
        off and the use of a remote gateway on: a peering that uses the remote gateway never points
        at a side without transit, as the ARM stages order them (facts-2026-12 section 3).
        """
        first = [("AllowVirtualNetworkAccess", True), ("AllowForwardedTraffic", self.allow_forwarded_traffic)]
        second = []
        (first if self.allow_gateway_transit else second).append(("AllowGatewayTransit", self.allow_gateway_transit))
        (second if self.use_remote_gateways else first).append(("UseRemoteGateways", self.use_remote_gateways))
        return tuple(first), tuple(second)


@dataclass(frozen=True, slots=True)
class Probe:
    name: str
    protocol: str
    port: int
    interval_seconds: int
    count: int
    request_path: str | None
    ref: ResourceRef
    path: Path


@dataclass(frozen=True, slots=True)
class LbRule:
    name: str
    protocol: str  # Tcp, Udp or All (HA ports)
    frontend_port: int  # 0 with HA ports
    backend_port: int
    probe: Probe
    pool: LbPool
    distribution: str
    floating_ip: bool
    idle_timeout_minutes: int
    tcp_reset: bool
    ha_ports: bool
    path: Path


@dataclass(frozen=True, slots=True)
class LbPool:
    """A backend pool: members by IP address (rendered) or by NIC (the workload adds them), never both."""

    name: str
    addresses: tuple[IPv4Address, ...]  # IP-based pool members, in the load balancer's VNet
    nics: tuple[str, ...]  # NIC names the workload puts in the pool (listed in the runbook only)
    ref: ResourceRef
    path: Path

    @property
    def address_members(self) -> tuple[tuple[str, IPv4Address], ...]:
        """(member name, address) pairs: the name Azure requires for each backend address."""
        return tuple((f"{self.name}-{str(a).replace('.', '-')}", a) for a in self.addresses)


@dataclass(frozen=True, slots=True)
class LoadBalancer:
    name: str
    resource_group: str
    region: str
    vnet: Vnet
    subnet: Subnet
    sku: str
    frontend_ip: IPv4Address | None  # None: Azure allocates a dynamic private IP
    frontend_name: str
    frontend_ref: ResourceRef
    zones: tuple[str, ...]  # zones of its frontend (regions.lb_frontend_zones); () = regional
    pools: tuple[LbPool, ...]
    probes: tuple[Probe, ...]
    rules: tuple[LbRule, ...]
    ref: ResourceRef
    path: Path

    @property
    def shape(self) -> str:
        """What gen manages of it as one text, in Azure's order: the PowerShell step compares the
        deployed load balancer's (Get-GenLbShape) with this and sends the whole load balancer when
        they differ."""
        fe = f"fe:{self.frontend_name}:{'Static' if self.frontend_ip else 'Dynamic'}:{self.frontend_ip or ''}"
        parts = [f"{fe}:{','.join(sorted(self.zones))}"]
        parts += [f"pool:{p.name}:{','.join(str(a) for a in p.addresses)}" for p in self.pools]
        parts += [
            f"probe:{p.name}:{p.protocol}:{p.port}:{p.interval_seconds}:{p.count}:{p.request_path or ''}"
            for p in self.probes
        ]
        parts += [
            f"rule:{r.name}:{r.protocol}:{r.frontend_port}:{r.backend_port}:{r.probe.name}:{r.pool.name}:"
            f"{r.distribution}:{r.floating_ip}:{r.idle_timeout_minutes}:{r.tcp_reset}"
            for r in self.rules
        ]
        return ";".join(parts)


@dataclass(frozen=True, slots=True)
class ResourceGroup:
    """Everything one ARM/Bicep deployment of a resource group creates, in two stages."""

    name: str
    vnets: tuple[Vnet, ...]
    nsgs: tuple[Nsg, ...]  # to create, before the VNets whose subnets use them
    route_tables: tuple[RouteTable, ...]  # to create, before the VNets whose subnets use them
    gateways: tuple[Gateway, ...]  # to create (not existing)
    existing_gateways: tuple[Gateway, ...]  # never modified by ARM/Bicep; read for azureState
    connections: tuple[Connection, ...]
    load_balancers: tuple[LoadBalancer, ...]
    links: tuple[VnetLink, ...]  # stage 2: need the remote gateways
    peerings: tuple[Peering, ...]  # stage 2: need the remote VNets
    secrets: tuple[SecretRef, ...]  # stage 1 parameters
    link_secrets: tuple[SecretRef, ...]  # stage 2 parameters


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    description: str
    source: str  # the inventory as the user named it
    tags: dict[str, str]
    vnets: tuple[Vnet, ...]
    gateways: tuple[Gateway, ...]
    sites: tuple[Site, ...]
    devices: tuple[Device, ...]
    site_connections: tuple[SiteConnection, ...]  # as the inventory lists them
    connections: tuple[Connection, ...]  # one per device of each site connection
    links: tuple[VnetLink, ...]
    peerings: tuple[Peering, ...]
    load_balancers: tuple[LoadBalancer, ...]
    tunnels: tuple[Tunnel, ...]
    resource_groups: tuple[ResourceGroup, ...]
    secrets: tuple[SecretRef, ...]
    device_tunnels: dict[str, tuple[Tunnel, ...]] = field(default_factory=dict)
    # device name -> its BGP route policy toward Azure (generator/routing.py); BGP devices only
    route_policies: dict[str, RoutePolicy] = field(default_factory=dict)
    warnings: tuple[Located, ...] = ()  # rule warnings, set by pipeline.build_model (shown in the runbook)

    def gateway_connections(self) -> dict[str, tuple[int, int]]:
        """Gateway name -> (site-to-site, VNet-to-VNet) connections on it: what its SKU budget counts."""
        counts = {gw.name: [0, 0] for gw in self.gateways}
        for c in self.connections:
            counts[c.gateway.name][0] += 1
        for link in self.links:
            counts[link.local.name][1] += 1
        return {name: (s2s, v2v) for name, (s2s, v2v) in counts.items()}

    @property
    def existing_attachments(self) -> tuple[Nsg | RouteTable, ...]:
        """Existing NSGs and route tables the subnets of created VNets reference, each once."""
        found: dict[ResourceRef, Nsg | RouteTable] = {}
        for vnet in self.vnets:
            for subnet in vnet.subnets if not vnet.existing else ():
                for x in (subnet.nsg, subnet.route_table):
                    if x is not None and x.existing:
                        found.setdefault(x.ref, x)
        return tuple(found.values())

    @property
    def pending(self) -> tuple[str, ...]:
        """Placeholders still waiting for an Azure state file, in order, without repeats."""
        return pending(self.tunnels)


def pending(tunnels: tuple[Tunnel, ...]) -> tuple[str, ...]:
    """Placeholders of these tunnels still waiting for an Azure state file, in order, without repeats."""
    seen: dict[str, None] = {}
    for tunnel in tunnels:
        for value in (tunnel.azure_public_ip, tunnel.azure_bgp_ip):
            if value is not None and not value.known:
                seen[value.placeholder] = None
    return tuple(seen)
