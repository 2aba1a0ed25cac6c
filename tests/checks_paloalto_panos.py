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

What this does not prove: that PAN-OS accepts the values (ranges, references to existing zones or
interfaces, commit-time checks), nor anything outside the objects listed (a container no class
reads is reported as unaccounted for).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from generator.platforms.paloalto_panos import DEVICE_ENTRY, device_element, set_lines, xml_set_lines

VERSIONS = ("10.1.0", "11.1.0")  # the releases the platform is written for

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
    for version in VERSIONS:
        back, counts = read_back(top, version)
        for line in sorted(set(rendered) - set(back)):
            problems.append(f"{path}: PAN-OS {version}: pan-os-python did not read back: {line}")
        for line in sorted(set(back) - set(rendered)):
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
            if len(set_file) != len(set(set_file)):
                problems.append(f"{twin}: a set line is repeated")
    return problems
