"""PAN-OS files (`.panos` set commands, `.panos.xml` fragment) through pan-os-python's object model.

No vendor offline checker exists for PAN-OS configuration. The closest structural one is
pan-os-python (Palo Alto Networks' own SDK, https://pan-os-python.readthedocs.io/): its classes carry
the XML path of every parameter per PAN-OS version. Each rendered XML container is loaded with
`refreshall_from_xml` into TunnelInterface, LoopbackInterface, IkeCryptoProfile, IpsecCryptoProfile,
IkeGateway, IpsecTunnel, VirtualRouter (with its StaticRoute, Bgp, BgpPeerGroup, BgpPeer,
BgpPolicyImportRule/ExportRule, BgpPolicyAddressPrefix and BgpRedistributionRule children), Zone and
SecurityRule; the objects are written back with `element()` and the two are compared as `set` lines.
pan-os-python silently ignores XML it does not know, so every rendered element must come back: an
element it dropped (a misspelt leaf, one in the wrong place, one that PAN-OS has not got in that
version) is a problem. Then the `.panos` file must say exactly the same `set` lines as the XML.

A file with a `logical-router` (the Advanced Routing Engine, device field logical_router) is read for
PAN-OS 10.2 and 11.1 through LogicalRouter (Vrf, VrfStaticRoute, VrfBgpPeerGroup, VrfBgpPeer) and the
RoutingProfileBgpTimer/AddressFamily/Filtering/Redistribution and RoutingProfileFilterPrefixList/
RouteMaps classes. pan-os-python 1.13.1 cannot read some of those leaves back (ARE_UNREAD, each with
the reason); they are accepted only in the exact path shape of Palo Alto's pan-os-codegen specs and
are otherwise proven only by the set/XML equality.

What this does not prove: that PAN-OS accepts the values (ranges, references to existing zones or
interfaces, commit-time checks), nor anything outside the objects listed (a container no class
reads is reported as unaccounted for).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

from generator.platforms.paloalto_panos import DEVICE_ENTRY, device_element, set_lines, xml_set_lines

VERSIONS = ("10.1.0", "11.1.0")  # the releases the platform is written for
ARE_VERSIONS = ("10.2.0", "11.1.0")  # the Advanced Routing Engine (logical-router) is PAN-OS 10.2+

# Advanced Routing Engine leaves pan-os-python 1.13.1 cannot read back, and why (read in its
# panos/network.py): these are proven only by their exact path shape here (the paths of Palo Alto's
# pan-os-codegen specs/network/logical-router.yaml and specs/network/routing-profiles/*.yaml) and by
# the set/XML equality, not by the SDK.
ARE_UNREAD = (
    (
        re.compile(r"^set network logical-router \S+ vrf \S+ bgp peer-group \S+ peer \S+ inherit yes$"),
        "VrfBgpPeer has no inherit parameter ('TODO: implement BGP peer group -> peer -> inherit')",
    ),
    (
        re.compile(
            r"^set network routing-profile bgp address-family-profile \S+ ipv4 unicast "
            r"(enable yes|maximum-prefix (num_prefixes \d+|threshold \d+|action restart interval \d+))$"
        ),
        "RoutingProfileBgpAddressFamily's paths start with {afi}, a variable without values, so parse_xml reads nothing",
    ),
    (
        re.compile(r"^set network routing-profile bgp redistribution-profile \S+ ipv4 unicast static enable yes$"),
        "RoutingProfileBgpRedistribution's paths start with {afi} (as above)",
    ),
    (
        re.compile(
            r"^set network routing-profile bgp filtering-profile \S+ ipv4 unicast route-maps (inbound|outbound) \S+$"
        ),
        "RoutingProfileBgpFiltering models no route maps (only description and afi)",
    ),
    (
        re.compile(
            r"^set network routing-profile filters prefix-list \S+ type ipv4 ipv4-entry \d+ prefix entry network "
            r"\d+\.\d+\.\d+\.\d+/\d+$"
        ),
        "RoutingProfileFilterPrefixListEntryIpv4 does not read prefix/entry/network back",
    ),
)

# (container below /config/devices/entry, its path in set syntax, pan-os-python class name)
CONTAINERS = (
    ("network/interface/tunnel/units", "network interface tunnel units", "network.TunnelInterface"),
    ("network/interface/loopback/units", "network interface loopback units", "network.LoopbackInterface"),
    (
        "network/ike/crypto-profiles/ike-crypto-profiles",
        "network ike crypto-profiles ike-crypto-profiles",
        "network.IkeCryptoProfile",
    ),
    (
        "network/ike/crypto-profiles/ipsec-crypto-profiles",
        "network ike crypto-profiles ipsec-crypto-profiles",
        "network.IpsecCryptoProfile",
    ),
    ("network/ike/gateway", "network ike gateway", "network.IkeGateway"),
    ("network/tunnel/ipsec", "network tunnel ipsec", "network.IpsecTunnel"),
    ("network/virtual-router", "network virtual-router", "network.VirtualRouter"),
    ("network/logical-router", "network logical-router", "network.LogicalRouter"),
    (
        "network/routing-profile/bgp/timer-profile",
        "network routing-profile bgp timer-profile",
        "network.RoutingProfileBgpTimer",
    ),
    (
        "network/routing-profile/bgp/address-family-profile",
        "network routing-profile bgp address-family-profile",
        "network.RoutingProfileBgpAddressFamily",
    ),
    (
        "network/routing-profile/bgp/filtering-profile",
        "network routing-profile bgp filtering-profile",
        "network.RoutingProfileBgpFiltering",
    ),
    (
        "network/routing-profile/bgp/redistribution-profile",
        "network routing-profile bgp redistribution-profile",
        "network.RoutingProfileBgpRedistribution",
    ),
    (
        "network/routing-profile/filters/prefix-list",
        "network routing-profile filters prefix-list",
        "network.RoutingProfileFilterPrefixList",
    ),
    (
        "network/routing-profile/filters/route-maps/bgp/bgp-entry",
        "network routing-profile filters route-maps bgp bgp-entry",
        "network.RoutingProfileFilterRouteMaps",
    ),
    ("vsys/entry[@name='vsys1']/zone", "vsys vsys1 zone", "network.Zone"),
    (
        "vsys/entry[@name='vsys1']/rulebase/security/rules",
        "vsys vsys1 rulebase security rules",
        "policies.SecurityRule",
    ),
)


def _classes():
    try:
        from panos import network, policies
        from panos.firewall import Firewall
    except ImportError as e:  # pragma: no cover - the test extra installs it
        raise AssertionError("pan-os-python is missing: pip install -e '.[test]' (pan-os-python)") from e
    modules = {"network": network, "policies": policies}
    return Firewall, {name: getattr(modules[name.split(".")[0]], name.split(".")[1]) for _, _, name in CONTAINERS}


def read_back(top: ET.Element, version: str) -> tuple[list[str], dict[str, int]]:
    """The `set` lines pan-os-python writes back for every container it has a class for, and how many
    objects each class read."""
    Firewall, classes = _classes()
    firewall = Firewall()
    firewall._set_version_and_version_info(version)  # offline: no device to ask
    lines: list[str] = []
    counts: dict[str, int] = {}
    for container, words, name in CONTAINERS:
        found = top.find(container)
        if found is None:
            continue
        probe = classes[name]()
        firewall.add(probe)
        objects = probe.refreshall_from_xml(found)
        firewall.remove(probe)
        wrapper = ET.Element("wrapper")
        for obj in objects:
            firewall.add(obj)
            wrapper.append(obj.element())
        counts[name] = len(objects)
        lines += [f"set {words} {line.removeprefix('set ')}" for line in xml_set_lines(wrapper)]
    return lines, counts


def check_xml(path: str, text: str) -> list[str]:
    try:
        top = device_element(text)
    except ET.ParseError as e:
        return [f"{path}: not well-formed XML: {e}"]
    if top is None:
        return [f"{path}: no /config/devices/entry[@name='{DEVICE_ENTRY}']"]
    rendered = xml_set_lines(top)
    problems = []
    are = top.find("network/logical-router") is not None
    for version in ARE_VERSIONS if are else VERSIONS:
        back, counts = read_back(top, version)
        for line in sorted(set(rendered) - set(back)):
            if are and any(pattern.match(line) for pattern, _ in ARE_UNREAD):
                continue
            problems.append(f"{path}: PAN-OS {version}: pan-os-python did not read back: {line}")
        for line in sorted(set(back) - set(rendered)):
            if are and any(r.startswith(line + " ") for r in rendered):
                continue  # an entry it wrote back without the leaves it cannot read (ARE_UNREAD)
            problems.append(f"{path}: PAN-OS {version}: pan-os-python added what was not rendered: {line}")
        if not counts.get("network.IkeGateway") or not counts.get("network.IpsecTunnel"):
            problems.append(f"{path}: PAN-OS {version}: no IKE gateway or IPsec tunnel read")
    return problems


def check_files(files: dict[str, str]) -> list[str]:
    problems: list[str] = []
    for path, text in sorted(files.items()):
        if path.endswith(".panos.xml"):
            problems += check_xml(path, text)
            twin = path.removesuffix(".xml")
            if twin not in files:
                problems.append(f"{path}: no {twin}")
                continue
            try:
                top = device_element(text)
            except ET.ParseError:
                continue
            xml_lines = sorted(xml_set_lines(top)) if top is not None else []
            set_file = sorted(set_lines(files[twin]))
            for line in sorted(set(set_file) - set(xml_lines)):
                problems.append(f"{twin}: not in the XML file: {line}")
            for line in sorted(set(xml_lines) - set(set_file)):
                problems.append(f"{twin}: missing (the XML file has it): {line}")
            # a line may repeat only as often as the XML repeats it (AS-path prepend members)
            xml_count = Counter(xml_lines)
            for line, n in sorted(Counter(set_file).items()):
                if n > 1 and n != xml_count[line]:
                    problems.append(f"{twin}: a set line is repeated: {line}")
    return problems
