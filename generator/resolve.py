"""Schema-valid inventory data -> Model. Every derived value (names, ids, tunnels) is made here once.

Structural problems found while resolving (unknown references, duplicate names) are reported
with rule ids like any other rule; the model is only built when there are none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from . import facts, naming, regions, routing
from .errors import Path, Problem
from .model import (
    Connection,
    Deferred,
    Delegation,
    Device,
    Gateway,
    GatewayInstance,
    IpsecPolicy,
    KeyVaultSecret,
    LbPool,
    LbRule,
    LoadBalancer,
    Model,
    Nsg,
    Peering,
    Probe,
    ResourceGroup,
    ResourceRef,
    Route,
    RouteTable,
    SecretRef,
    SecurityRule,
    SecurityZones,
    Site,
    SiteConnection,
    Subnet,
    Tunnel,
    Vnet,
    VnetLink,
)
from .platforms import PLATFORMS

NET = "Microsoft.Network"

AzureState = Mapping[str, Mapping[str, Any]]  # gateway name -> {"instances": [{"public_ip", "bgp_ips"}]}


class Unresolvable(Exception):
    """Raised with the structural problems that keep a model from being built."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def _ref(kind: str, *names: str, rg: str) -> ResourceRef:
    return ResourceRef(f"{NET}/{kind}", tuple(names), rg)


def _policy(raw: Mapping[str, Any] | None) -> IpsecPolicy:
    values = dict(raw) if raw else dict(facts.DEFAULT_POLICY)
    return IpsecPolicy(custom=raw is not None, **values)


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:].lower() for part in re.split(r"[^A-Za-z0-9]+", text) if part)


class _Resolver:
    def __init__(self, data: Mapping[str, Any], source: str, state: AzureState | None):
        self.data = data
        self.source = source
        self.state = state or {}
        self.problems: list[Problem] = []
        self.secrets: dict[tuple[str, str, KeyVaultSecret | None], SecretRef] = {}
        self.parameters: set[str] = set()  # parameter names taken by self.secrets
        self.tunnel_counts: dict[str, int] = {}  # device -> tunnels numbered so far

    # ------------------------------------------------------------------ helpers
    def next_tunnel(self, device: Device) -> int:
        """The number of the device's next tunnel (in inventory order), from its tunnel_base (default 1)."""
        self.tunnel_counts[device.name] = self.tunnel_counts.get(device.name, device.tunnel_base - 1) + 1
        return self.tunnel_counts[device.name]

    def problem(self, path: Path, message: str, rule: str) -> None:
        self.problems.append(Problem(path, message, rule))

    def unique(self, items: Iterable[tuple[str, Path]], what: str) -> None:
        seen: dict[str, Path] = {}
        for name, path in items:
            key = name.lower()  # Azure names are case-insensitive
            if key in seen:
                self.problem(
                    path, f"{what} '{name}' is already defined at {_dotted(seen[key])}; rename one", "duplicate-name"
                )
            else:
                seen[key] = path

    def secret(self, raw: Mapping[str, Any], path: Path) -> SecretRef:
        if "env" in raw and "file" in raw:
            self.problem(path, "give env or file (beside keyvault at most one of them), not both", "secret-one-source")
        vault = self.keyvault(raw["keyvault"], path + ("keyvault",)) if "keyvault" in raw else None
        local = [(k, v) for k, v in raw.items() if k in ("env", "file")]
        if local:
            kind, name = local[0]
        else:
            assert vault is not None  # the schema asks for one of env, file, keyvault
            kind, name = "keyvault", f"{vault.vault}/{vault.secret}"
        key = (kind, name, vault)
        if key not in self.secrets:
            base = "psk" + (
                _camel(name)
                if kind == "env"
                else _camel(vault.secret)
                if vault is not None and kind == "keyvault"
                else _camel(re.sub(r"\.[A-Za-z0-9]+$", "", name.rsplit("/", 1)[-1]))
            )
            parameter, n = base, 2
            while parameter in self.parameters:
                parameter, n = f"{base}{n}", n + 1
            self.parameters.add(parameter)
            self.secrets[key] = SecretRef(kind, name, parameter, path, vault)
        return self.secrets[key]

    def keyvault(self, raw: Mapping[str, str], path: Path) -> KeyVaultSecret | None:
        # ARM parameter files need the vault's full resource id, subscription included:
        # https://learn.microsoft.com/azure/azure-resource-manager/templates/key-vault-parameter
        subscription = raw.get("subscription") or self.data["azure"].get("subscription")
        if subscription is None:
            self.problem(
                path,
                "a Key Vault reference needs the vault's subscription: give keyvault.subscription, or azure.subscription "
                "for the deployment's (ARM parameter files name the vault by its full resource id)",
                "keyvault-subscription",
            )
            subscription = "00000000-0000-0000-0000-000000000000"  # never rendered: the problem stops the run
        return KeyVaultSecret(subscription.lower(), raw["resource_group"], raw["vault"], raw["secret"])

    # ------------------------------------------------------------------ azure
    def gateway(self, vnet: Mapping[str, Any], path: Path) -> Gateway | None:
        raw = vnet.get("gateway")
        if raw is None:
            return None
        vnet_name, rg = vnet["name"], vnet["resource_group"]
        name = raw.get("name", naming.gateway(vnet_name))
        sku = raw["sku"]
        bgp = raw.get("bgp")
        active = bool(raw.get("active_active", False))
        known = self.state.get(name, {}).get("instances", [])
        apipa_lists = (bgp or {}).get("apipa_addresses", [])
        instances = []
        given = raw.get("instance_names", [])
        for index in range(2 if active else 1):
            seen = known[index] if index < len(known) else {}
            bgp_ips = seen.get("bgp_ips") or []
            names = given[index] if index < len(given) else {}
            ipconfig = names.get("ip_configuration", naming.ipconfig(index))
            pip = names.get("public_ip", naming.public_ip(name, index))
            instances.append(
                GatewayInstance(
                    index=index,
                    ipconfig=_ref("virtualNetworkGateways/ipConfigurations", name, ipconfig, rg=rg),
                    public_ip_ref=_ref("publicIPAddresses", pip, rg=rg),
                    public_ip=Deferred(naming.public_ip_placeholder(name, index), seen.get("public_ip")),
                    default_bgp_ip=Deferred(naming.bgp_placeholder(name, index), bgp_ips[0] if bgp_ips else None),
                    apipa=tuple(apipa_lists[index]) if index < len(apipa_lists) else (),
                )
            )
        return Gateway(
            name=name,
            vnet=vnet_name,
            resource_group=rg,
            region=vnet["region"],
            sku=sku,
            generation=raw.get("generation", facts.default_generation(sku)),
            generation_given="generation" in raw,
            active_active=active,
            bgp=bgp is not None,
            asn=bgp["asn"] if bgp else facts.AZURE_DEFAULT_ASN,
            existing=bool(raw.get("existing", vnet.get("existing", False))),
            max_connections=facts.GATEWAY_SKUS[sku][1],
            apipa_lists=len(apipa_lists),
            public_ip_zones=regions.public_ip_zones(vnet["region"], sku),
            instances=tuple(instances),
            ref=_ref("virtualNetworkGateways", name, rg=rg),
            subnet_ref=_ref("virtualNetworks/subnets", vnet_name, facts.GATEWAY_SUBNET, rg=rg),
            path=path + ("gateway",),
        )

    def nsg(self, vnet: Mapping[str, Any], subnet: Mapping[str, Any], path: Path) -> Nsg:
        raw = subnet["nsg"]
        existing = bool(raw.get("existing", False))
        if existing and "name" not in raw:
            self.problem(path, "an existing NSG is referenced by name; add name", "subnet-reference-name")
        if existing and raw.get("rules"):
            self.problem(
                path + ("rules",),
                "gen never changes an existing NSG; remove rules or drop existing: true to create the NSG",
                "subnet-reference-name",
            )
        name = raw.get("name", naming.nsg(vnet["name"], subnet["name"]))
        rg = raw.get("resource_group", vnet["resource_group"]) if existing else vnet["resource_group"]
        rules = tuple(
            SecurityRule(
                name=r["name"],
                priority=r["priority"],
                direction=r["direction"],
                access=r["access"],
                protocol=r.get("protocol", "*"),
                source=tuple(r.get("source", ["*"])),
                source_ports=tuple(r.get("source_ports", ["*"])),
                destination=tuple(r.get("destination", ["*"])),
                destination_ports=tuple(r.get("destination_ports", ["*"])),
                description=r.get("description", ""),
                path=path + ("rules", k),
            )
            for k, r in enumerate(raw.get("rules", ()))
        )
        self.unique(((r.name, r.path + ("name",)) for r in rules), "security rule")
        return Nsg(name, rg, vnet["region"], existing, rules, _ref("networkSecurityGroups", name, rg=rg), path)

    def route_table(self, vnet: Mapping[str, Any], subnet: Mapping[str, Any], path: Path) -> RouteTable:
        raw = subnet["route_table"]
        existing = bool(raw.get("existing", False))
        if existing and "name" not in raw:
            self.problem(path, "an existing route table is referenced by name; add name", "subnet-reference-name")
        if existing and raw.get("routes"):
            self.problem(
                path + ("routes",),
                "gen never changes an existing route table; remove routes or drop existing: true to create it",
                "subnet-reference-name",
            )
        name = raw.get("name", naming.route_table(vnet["name"], subnet["name"]))
        rg = raw.get("resource_group", vnet["resource_group"]) if existing else vnet["resource_group"]
        routes = tuple(
            Route(r["name"], IPv4Network(r["prefix"]), r["next_hop"], r.get("next_hop_ip"), path + ("routes", k))
            for k, r in enumerate(raw.get("routes", ()))
        )
        self.unique(((r.name, r.path + ("name",)) for r in routes), "route")
        return RouteTable(
            name,
            rg,
            vnet["region"],
            existing,
            bool(raw.get("disable_bgp_route_propagation", False)),
            routes,
            _ref("routeTables", name, rg=rg),
            path,
        )

    def vnets(self) -> tuple[Vnet, ...]:
        result = []
        raw_vnets = self.data["azure"]["vnets"]
        self.unique(((v["name"], ("azure", "vnets", i, "name")) for i, v in enumerate(raw_vnets)), "VNet")
        for i, raw in enumerate(raw_vnets):
            path: Path = ("azure", "vnets", i)
            rg = raw["resource_group"]
            self.unique(((s["name"], path + ("subnets", j, "name")) for j, s in enumerate(raw["subnets"])), "subnet")
            subnets = tuple(
                Subnet(
                    s["name"],
                    IPv4Network(s["prefix"]),
                    _ref("virtualNetworks/subnets", raw["name"], s["name"], rg=rg),
                    path + ("subnets", j),
                    nsg=self.nsg(raw, s, path + ("subnets", j, "nsg")) if "nsg" in s else None,
                    route_table=self.route_table(raw, s, path + ("subnets", j, "route_table"))
                    if "route_table" in s
                    else None,
                    service_endpoints=tuple(s.get("service_endpoints", ())),
                    delegations=tuple(Delegation(naming.delegation(d), d) for d in s.get("delegations", ())),
                )
                for j, s in enumerate(raw["subnets"])
            )
            result.append(
                Vnet(
                    name=raw["name"],
                    resource_group=rg,
                    region=raw["region"],
                    address_space=tuple(IPv4Network(p) for p in raw["address_space"]),
                    subnets=subnets,
                    existing=bool(raw.get("existing", False)),
                    gateway=self.gateway(raw, path),
                    ref=_ref("virtualNetworks", raw["name"], rg=rg),
                    path=path,
                )
            )
        gateways = [(v.gateway.name, v.gateway.path + ("name",)) for v in result if v.gateway]
        self.unique(gateways, "gateway")
        for what, attr in (("NSG", "nsg"), ("route table", "route_table")):
            created = [getattr(s, attr) for v in result for s in v.subnets if getattr(s, attr) is not None]
            self.unique(((x.name, x.path + ("name",)) for x in created if not x.existing), what)
        return tuple(result)

    def links(self, vnets: Mapping[str, Vnet]) -> tuple[VnetLink, ...]:
        result: list[VnetLink] = []
        seen: dict[frozenset[str], Path] = {}
        for i, raw in enumerate(self.data["azure"].get("vnet_links", [])):
            path: Path = ("azure", "vnet_links", i)
            field_name = "full_mesh" if "full_mesh" in raw else "pair"
            names = raw[field_name]
            gateways = []
            for j, name in enumerate(names):
                vnet = self.lookup(vnets, name, path + (field_name, j), "VNet")
                if vnet is None:
                    continue
                if vnet.gateway is None:
                    self.problem(
                        path + (field_name, j),
                        f"VNet '{name}' has no gateway; add azure.vnets[].gateway to link it",
                        "link-needs-gateway",
                    )
                    continue
                gateways.append(vnet.gateway)
            psk = self.secret(raw["psk"], path + ("psk",))
            policy = _policy(raw.get("ipsec_policy"))
            self.known_keys(raw, "connection_names", path, list(names), "VNet of this link")
            for a_index, a in enumerate(gateways):
                for b in gateways[a_index + 1 :]:
                    pair = frozenset({a.vnet, b.vnet})
                    if pair in seen:
                        self.problem(
                            path,
                            f"VNets '{a.vnet}' and '{b.vnet}' are already linked at {_dotted(seen[pair])}",
                            "duplicate-name",
                        )
                        continue
                    seen[pair] = path
                    bgp = raw.get("bgp", a.bgp and b.bgp)
                    for local, remote in ((a, b), (b, a)):
                        name = raw.get("connection_names", {}).get(
                            local.vnet, naming.vnet_link(local.vnet, remote.vnet)
                        )
                        result.append(
                            VnetLink(
                                name=name,
                                resource_group=local.resource_group,
                                region=local.region,
                                local=local,
                                remote=remote,
                                ref=_ref("connections", name, rg=local.resource_group),
                                psk=psk,
                                bgp=bgp,
                                policy=policy,
                                path=path,
                            )
                        )
        return tuple(result)

    def peerings(self, vnets: Mapping[str, Vnet]) -> tuple[Peering, ...]:
        result = []
        seen: dict[frozenset[str], Path] = {}
        for i, raw in enumerate(self.data["azure"].get("peerings", [])):
            path: Path = ("azure", "peerings", i)
            pair = frozenset(name.lower() for name in raw["vnets"])
            if pair in seen:  # Azure has one peering per direction: the second would overwrite the first
                self.problem(
                    path + ("vnets",),
                    f"VNets {raw['vnets']} are already peered at {_dotted(seen[pair])}; keep one entry",
                    "duplicate-name",
                )
                continue
            seen[pair] = path
            ends = [self.lookup(vnets, name, path + ("vnets", j), "VNet") for j, name in enumerate(raw["vnets"])]
            transit = raw.get("transit_via")
            if transit is not None and transit not in raw["vnets"]:
                self.problem(
                    path + ("transit_via",),
                    f"'{transit}' is not one of the peered VNets {raw['vnets']}",
                    "unknown-reference",
                )
            if None in ends:
                continue
            a, b = ends
            if transit == b.name:  # the transit side first (PowerShell creates them in this order)
                a, b = b, a
            given = raw.get("peering_names", {})
            self.known_keys(raw, "peering_names", path, list(raw["vnets"]), "VNet of this peering")
            for local, remote in ((a, b), (b, a)):
                name = given.get(local.name, naming.peering(local.name, remote.name))
                uses_remote = transit == remote.name
                result.append(
                    Peering(
                        name=name,
                        resource_group=local.resource_group,
                        vnet=local.name,
                        remote=remote,
                        ref=_ref("virtualNetworks/virtualNetworkPeerings", local.name, name, rg=local.resource_group),
                        allow_gateway_transit=transit == local.name,
                        use_remote_gateways=uses_remote,
                        allow_forwarded_traffic=raw.get("allow_forwarded_traffic", True),
                        waits_for=_ref(
                            "virtualNetworks/virtualNetworkPeerings",
                            remote.name,
                            given.get(remote.name, naming.peering(remote.name, local.name)),
                            rg=remote.resource_group,
                        )
                        if uses_remote
                        else None,
                        late=uses_remote and remote.resource_group != local.resource_group,
                        path=path,
                    )
                )
        return tuple(result)

    def lb_pools(self, raw: dict[str, Any], path: Path, name: str, rg: str) -> tuple[LbPool, ...]:
        """A load balancer's backend pools: `backend_pool` (one pool by NIC) or `backend_pools`."""
        if ("backend_pool" in raw) == ("backend_pools" in raw):
            self.problem(
                path,
                "give backend_pool (one pool by NIC) or backend_pools (pools by IP address or by NIC), not "
                + ("both" if "backend_pool" in raw else "neither"),
                "lb-pool-missing",
            )
            return ()
        if "backend_pool" in raw:
            ref = _ref("loadBalancers/backendAddressPools", name, raw["backend_pool"], rg=rg)
            return (LbPool(raw["backend_pool"], (), (), ref, path + ("backend_pool",)),)
        entries = raw["backend_pools"]
        self.unique(((p["name"], path + ("backend_pools", j, "name")) for j, p in enumerate(entries)), "backend pool")
        return tuple(
            LbPool(
                name=p["name"],
                addresses=tuple(IPv4Address(a) for a in p.get("addresses", ())),
                nics=tuple(p.get("nics", ())),
                ref=_ref("loadBalancers/backendAddressPools", name, p["name"], rg=rg),
                path=path + ("backend_pools", j),
            )
            for j, p in enumerate(entries)
        )

    def load_balancers(self, vnets: Mapping[str, Vnet]) -> tuple[LoadBalancer, ...]:
        result = []
        raw_lbs = self.data["azure"].get("load_balancers", [])
        self.unique(
            ((lb["name"], ("azure", "load_balancers", i, "name")) for i, lb in enumerate(raw_lbs)), "load balancer"
        )
        for i, raw in enumerate(raw_lbs):
            path: Path = ("azure", "load_balancers", i)
            vnet = self.lookup(vnets, raw["vnet"], path + ("vnet",), "VNet")
            if vnet is None:
                continue
            subnet = next((s for s in vnet.subnets if s.name == raw["subnet"]), None)
            if subnet is None:
                self.problem(
                    path + ("subnet",),
                    f"VNet '{vnet.name}' has no subnet '{raw['subnet']}'; known: {', '.join(s.name for s in vnet.subnets)}",
                    "unknown-reference",
                )
                continue
            rg, name = vnet.resource_group, raw["name"]
            frontend = raw.get("frontend_name", "frontend")
            self.unique(((p["name"], path + ("probes", j, "name")) for j, p in enumerate(raw["probes"])), "probe")
            self.unique(((r["name"], path + ("rules", j, "name")) for j, r in enumerate(raw["rules"])), "rule")
            probes = {
                p["name"]: Probe(
                    name=p["name"],
                    protocol=p["protocol"],
                    port=p["port"],
                    interval_seconds=p.get("interval_seconds", 5),
                    count=p.get("count", 2),
                    request_path=p.get("request_path"),
                    ref=_ref("loadBalancers/probes", name, p["name"], rg=rg),
                    path=path + ("probes", j),
                )
                for j, p in enumerate(raw["probes"])
            }
            pools = self.lb_pools(raw, path, name, rg)
            if not pools:
                continue
            by_pool = {p.name: p for p in pools}
            rules = []
            for j, r in enumerate(raw["rules"]):
                rpath = path + ("rules", j)
                pool = by_pool.get(r.get("pool", pools[0].name))
                if pool is None:
                    self.problem(
                        rpath + ("pool",),
                        f"no backend pool '{r['pool']}' in this load balancer; known: {', '.join(by_pool)}",
                        "unknown-reference",
                    )
                    continue
                probe = probes.get(r["probe"])
                if probe is None:
                    self.problem(
                        rpath + ("probe",),
                        f"no probe '{r['probe']}' in this load balancer; known: {', '.join(probes)}",
                        "unknown-reference",
                    )
                    continue
                ha = bool(r.get("ha_ports", False))
                if ha and ("protocol" in r or "frontend_port" in r or "backend_port" in r):
                    self.problem(
                        rpath + ("ha_ports",),
                        "an HA-ports rule covers all protocols and ports; remove protocol, frontend_port and backend_port",
                        "lb-ha-ports",
                    )
                    continue
                if not ha and ("protocol" not in r or "frontend_port" not in r):
                    self.problem(rpath, "give protocol and frontend_port, or set ha_ports: true", "lb-rule-incomplete")
                    continue
                rules.append(
                    LbRule(
                        name=r["name"],
                        protocol="All" if ha else r["protocol"],
                        frontend_port=0 if ha else r["frontend_port"],
                        backend_port=0 if ha else r.get("backend_port", r["frontend_port"]),
                        probe=probe,
                        pool=pool,
                        distribution=r.get("distribution", "Default"),
                        floating_ip=bool(r.get("floating_ip", False)),
                        idle_timeout_minutes=r.get("idle_timeout_minutes", 4),
                        tcp_reset=bool(r.get("tcp_reset", False)),
                        ha_ports=ha,
                        path=rpath,
                    )
                )
            result.append(
                LoadBalancer(
                    name=name,
                    resource_group=rg,
                    region=vnet.region,
                    vnet=vnet,
                    subnet=subnet,
                    sku=raw.get("sku", "Standard"),
                    frontend_ip=IPv4Address(raw["frontend_ip"]) if "frontend_ip" in raw else None,
                    frontend_name=frontend,
                    frontend_ref=_ref("loadBalancers/frontendIPConfigurations", name, frontend, rg=rg),
                    zones=regions.lb_frontend_zones(vnet.region, raw.get("sku", "Standard")),
                    pools=pools,
                    probes=tuple(probes.values()),
                    rules=tuple(rules),
                    ref=_ref("loadBalancers", name, rg=rg),
                    path=path,
                )
            )
        return tuple(result)

    # ------------------------------------------------------------------ on-prem
    def sites(self) -> tuple[Site, ...]:
        raw_sites = (self.data.get("onprem") or {}).get("sites", [])
        self.unique(((s["name"], ("onprem", "sites", i, "name")) for i, s in enumerate(raw_sites)), "site")
        self.unique(
            (
                (d["name"], ("onprem", "sites", i, "devices", j, "name"))
                for i, s in enumerate(raw_sites)
                for j, d in enumerate(s["devices"])
            ),
            "device",
        )
        result = []
        for i, raw in enumerate(raw_sites):
            path: Path = ("onprem", "sites", i)
            devices = []
            for j, d in enumerate(raw["devices"]):
                platform = PLATFORMS[d["platform"]]
                public = IPv4Address(d["public_ip"])
                bgp_ip = IPv4Address(d["bgp_ip"]) if "bgp_ip" in d else None
                devices.append(
                    Device(
                        name=d["name"],
                        site=raw["name"],
                        platform=d["platform"],
                        public_ip=public,
                        fqdn=d.get("fqdn"),
                        local_address=IPv4Address(d.get("local_address", d["public_ip"])),
                        behind_nat="local_address" in d,
                        bgp_ip=bgp_ip,
                        bgp_ip_is_apipa=bgp_ip is not None and bgp_ip in facts.LINK_LOCAL,
                        outside_interface=d.get("outside_interface", platform.outside_interface),
                        loopback_interface=d.get("loopback_interface", platform.loopback_interface),
                        local_gateway_name=d.get("local_gateway_name"),
                        path=path + ("devices", j),
                        security_zones=SecurityZones(**d["security_zones"]) if "security_zones" in d else None,
                        existing_bgp=d.get("existing_bgp"),
                        logical_router=d.get("logical_router"),
                        tunnel_base=d.get("tunnel_base", 1),
                    )
                )
            result.append(
                Site(
                    name=raw["name"],
                    location=raw.get("location", ""),
                    asn=raw.get("asn"),
                    prefixes=tuple(IPv4Network(p) for p in raw["prefixes"]),
                    devices=tuple(devices),
                    path=path,
                    redundancy=raw.get("redundancy", routing.ACTIVE_ACTIVE),
                    bgp_advertise=tuple(IPv4Network(p) for p in raw.get("bgp", {}).get("advertise", [])),
                    bgp_accept=tuple(IPv4Network(p) for p in raw.get("bgp", {}).get("accept", [])),
                    transit_via_azure=bool(raw.get("bgp", {}).get("transit_via_azure", False)),
                    ibgp=bool(raw.get("bgp", {}).get("ibgp", False)),
                )
            )
        return tuple(result)

    def connections(
        self, vnets: Mapping[str, Vnet], sites: Mapping[str, Site]
    ) -> tuple[tuple[SiteConnection, ...], tuple[Connection, ...]]:
        """The inventory's site connections and, per device of each, its Azure connection."""
        shared: list[SiteConnection] = []
        result: list[Connection] = []
        seen: dict[tuple[str, str], Path] = {}
        for i, raw in enumerate((self.data.get("onprem") or {}).get("connections", [])):
            path: Path = ("onprem", "connections", i)
            site = self.lookup(sites, raw["site"], path + ("site",), "site")
            vnet = self.lookup(vnets, raw["vnet"], path + ("vnet",), "VNet")
            if site is None or vnet is None:
                continue
            gateway = vnet.gateway
            if gateway is None:
                self.problem(
                    path + ("vnet",),
                    f"VNet '{vnet.name}' has no gateway; add azure.vnets[].gateway",
                    "connection-needs-gateway",
                )
                continue
            pair = (site.name, vnet.name)
            if pair in seen:
                self.problem(
                    path,
                    f"site '{site.name}' is already connected to '{vnet.name}' at {_dotted(seen[pair])}",
                    "duplicate-name",
                )
                continue
            seen[pair] = path
            bgp = bool(raw.get("bgp", gateway.bgp))
            psk = self.secret(raw["psk"], path + ("psk",))
            policy = _policy(raw.get("ipsec_policy"))
            settings = SiteConnection(
                site=site,
                vnet=vnet.name,
                gateway=gateway,
                psk=psk,
                bgp=bgp,
                ike_version=raw.get("ike_version", "IKEv2"),
                dpd_timeout_seconds=raw.get("dpd_timeout_seconds", facts.DEFAULT_DPD_TIMEOUT_SECONDS),
                connection_mode=raw.get("connection_mode", "Default"),
                policy_based_traffic_selectors=bool(raw.get("policy_based_traffic_selectors", False)),
                policy=policy,
                path=path,
            )
            shared.append(settings)
            self.known_keys(
                raw, "connection_names", path, [d.name for d in site.devices], f"device of site '{site.name}'"
            )
            rg = vnet.resource_group
            for device in site.devices:
                name = raw.get("connection_names", {}).get(device.name, naming.site_connection(vnet.name, device.name))
                lng_name = device.local_gateway_name or naming.local_gateway(site.name, device.name)
                use_apipa = bgp and device.bgp_ip_is_apipa
                custom = tuple((inst.ipconfig, inst.apipa[0]) for inst in gateway.instances if use_apipa and inst.apipa)
                tunnels = tuple(
                    Tunnel(
                        key=f"{gateway.name}.i{inst.index}~{device.name}",
                        device_index=self.next_tunnel(device),
                        connection=name,
                        gateway=gateway.name,
                        instance=inst.index,
                        device=device.name,
                        site=site.name,
                        azure_public_ip=inst.public_ip,
                        device_public_ip=device.public_ip,
                        device_ike_id=device.ike_id,
                        device_ike_fqdn=device.fqdn is not None,
                        azure_asn=gateway.asn,
                        device_asn=site.asn,
                        bgp=bgp,
                        azure_bgp_ip=(
                            Deferred(inst.apipa[0], inst.apipa[0]) if use_apipa and inst.apipa else inst.default_bgp_ip
                        )
                        if bgp
                        else None,
                        device_bgp_ip=device.bgp_ip if bgp else None,
                        apipa=use_apipa,
                        psk=psk,
                        policy=policy,
                        ike_version=settings.ike_version,
                        dpd_timeout_seconds=settings.dpd_timeout_seconds,
                        connection_mode=settings.connection_mode,
                        policy_based_traffic_selectors=settings.policy_based_traffic_selectors,
                        local_prefixes=site.prefixes,
                        remote_prefixes=vnet.address_space,
                    )
                    for inst in gateway.instances
                )
                result.append(
                    Connection(
                        name=name,
                        resource_group=rg,
                        region=vnet.region,
                        gateway=gateway,
                        device=device,
                        settings=settings,
                        lng_name=lng_name,
                        lng_ref=_ref("localNetworkGateways", lng_name, rg=rg),
                        lng_prefixes=() if bgp else site.prefixes,
                        ref=_ref("connections", name, rg=rg),
                        custom_bgp_ips=custom,
                        tunnels=tunnels,
                    )
                )
        return tuple(shared), tuple(result)

    def known_keys(self, raw: Mapping[str, Any], field: str, path: Path, names: list[str], what: str) -> None:
        """Every key of a name map (gen import's connection_names, peering_names) names one of `names`."""
        for key in raw.get(field, {}):
            if key not in names:
                message = f"'{key}' is not a {what} ({', '.join(names)})"
                self.problems.append(Problem(path + (field, key), message, "unknown-reference", at_key=True))

    def lookup(self, table: Mapping[str, Any], name: str, path: Path, what: str) -> Any:
        found = table.get(name)
        if found is None:
            close = [k for k in table if k.lower() == name.lower()]
            hint = f"; did you mean '{close[0]}'?" if close else (f"; known: {', '.join(table)}" if table else "")
            self.problem(path, f"no {what} named '{name}'{hint}", "unknown-reference")
        return found

    # ------------------------------------------------------------------ model
    def build(self) -> Model:
        vnets = self.vnets()
        by_vnet = {v.name: v for v in vnets}
        sites = self.sites()
        by_site = {s.name: s for s in sites}
        site_connections, connections = self.connections(by_vnet, by_site)
        links = self.links(by_vnet)
        peerings = self.peerings(by_vnet)
        lbs = self.load_balancers(by_vnet)
        if self.problems:
            raise Unresolvable(self.problems)
        device_tunnels: dict[str, list[Tunnel]] = {}
        for connection in connections:
            for tunnel in connection.tunnels:
                device_tunnels.setdefault(tunnel.device, []).append(tunnel)
        gateways = tuple(v.gateway for v in vnets if v.gateway)
        secrets = tuple(self.secrets.values())
        return Model(
            name=self.data["name"],
            description=self.data.get("description", ""),
            source=self.source,
            tags=dict(sorted(self.data.get("tags", {}).items())),
            vnets=vnets,
            gateways=gateways,
            sites=sites,
            devices=tuple(d for s in sites for d in s.devices),
            site_connections=site_connections,
            connections=connections,
            links=links,
            peerings=peerings,
            load_balancers=lbs,
            tunnels=tuple(t for c in connections for t in c.tunnels),
            resource_groups=_resource_groups(vnets, connections, links, peerings, lbs),
            secrets=secrets,
            device_tunnels={k: tuple(v) for k, v in device_tunnels.items()},
            route_policies=routing.derive(sites, vnets, site_connections, links, peerings),
        )


def _resource_groups(vnets, connections, links, peerings, lbs) -> tuple[ResourceGroup, ...]:
    names = list(dict.fromkeys(v.resource_group for v in vnets))
    by_rg = {kind: _group(items) for kind, items in (("vnets", vnets), ("connections", connections))}
    by_rg.update((kind, _group(items)) for kind, items in (("links", links), ("peerings", peerings), ("lbs", lbs)))
    groups = []
    for rg in names:
        rg_vnets = by_rg["vnets"].get(rg, ())
        conns = by_rg["connections"].get(rg, ())
        rg_links = by_rg["links"].get(rg, ())
        groups.append(
            ResourceGroup(
                name=rg,
                vnets=rg_vnets,
                nsgs=_created(rg_vnets, "nsg"),
                route_tables=_created(rg_vnets, "route_table"),
                gateways=tuple(v.gateway for v in rg_vnets if v.gateway and not v.gateway.existing),
                existing_gateways=tuple(v.gateway for v in rg_vnets if v.gateway and v.gateway.existing),
                connections=conns,
                load_balancers=by_rg["lbs"].get(rg, ()),
                links=rg_links,
                peerings=by_rg["peerings"].get(rg, ()),
                secrets=tuple(dict.fromkeys(c.psk for c in conns)),
                link_secrets=tuple(dict.fromkeys(x.psk for x in rg_links)),
            )
        )
    return tuple(groups)


def _created(vnets, attr: str) -> tuple:
    """The NSGs or route tables the subnets of these VNets ask gen to create (not existing ones)."""
    return tuple(
        x for v in vnets if not v.existing for s in v.subnets if (x := getattr(s, attr)) is not None and not x.existing
    )


def _group(items) -> dict[str, tuple]:
    """Items by resource group, each group in input order."""
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(item.resource_group, []).append(item)
    return {rg: tuple(found) for rg, found in groups.items()}


def _dotted(path: Path) -> str:
    from .errors import format_path

    return format_path(path)


def resolve(data: Mapping[str, Any], source: str, state: AzureState | None = None) -> Model:
    """Build the model, or raise Unresolvable with every structural problem."""
    return _Resolver(data, source, state).build()
