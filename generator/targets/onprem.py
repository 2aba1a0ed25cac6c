"""On-prem router snippets: out/onprem/<site>/<device><suffix>, per platform (generator/platforms/).

One template per file suffix under templates/onprem/<platform>/ (`.ios` -> ios.j2). Every value
that must match Azure comes from the device's Tunnel objects (model.device_tunnels); vendor
tokens come from each platform's filters.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

from ..crypto import IKE_LIFETIME_SECONDS
from ..model import Connection, Device, Model, Site, Tunnel, pending
from ..paths import device_file
from ..platforms import PLATFORMS, Platform
from ..render import render
from .base import Options, OutputFile

MSS = 1350  # Azure requires clamping TCP MSS to 1350 (router-facts A3)
EBGP_MULTIHOP = 5  # the Azure BGP peer is never directly connected (R8; Microsoft's CSR example)


@dataclass(frozen=True, slots=True)
class DeviceView:
    """What a device template sees: the device, its site, its tunnels and connections."""

    model: Model
    device: Device
    site: Site
    platform: Platform
    tunnels: tuple[Tunnel, ...]
    connections: tuple[Connection, ...]
    pending: tuple[str, ...]  # placeholders left in this device's files
    psk_placeholders: bool  # pre-shared keys are placeholders (no --secrets)
    verify: tuple[str, ...]  # Platform.verify: IPsec always, BGP per Azure neighbour only with BGP


class OnpremTarget:
    key = "onprem"
    description = "Router snippets per on-prem device (platforms: " + ", ".join(PLATFORMS) + ")"

    def render(self, model: Model, env: jinja2.Environment, options: Options) -> list[OutputFile]:
        keys = options.secrets or {}

        files = []
        sites = {s.name: s for s in model.sites}
        connections: dict[str, list[Connection]] = {}
        for c in model.connections:
            connections.setdefault(c.device.name, []).append(c)
        for device in model.devices:
            tunnels = model.device_tunnels.get(device.name, ())
            if not tunnels:
                continue
            view = DeviceView(
                model=model,
                device=device,
                site=sites[device.site],
                platform=PLATFORMS[device.platform],
                tunnels=tunnels,
                connections=tuple(connections.get(device.name, ())),
                pending=pending(tunnels),
                psk_placeholders=any(t.psk.parameter not in keys for t in tunnels),
                verify=PLATFORMS[device.platform].verify(tunnels, device),
            )
            for suffix in view.platform.files:
                text = render(
                    env,
                    view.platform.template(suffix),
                    v=view,
                    model=model,
                    device=device,
                    site=view.site,
                    tunnels=tunnels,
                    keys=keys,
                    mss=MSS,
                    multihop=EBGP_MULTIHOP,
                    rp=model.route_policies.get(device.name),
                    ike_lifetime=IKE_LIFETIME_SECONDS,
                )
                # secret: marked by the psk_text filter when a key is rendered in (pipeline.render_all)
                files.append(OutputFile(device_file(device, suffix), text))
        return files

    def verify(self, files: list[OutputFile]) -> list[str]:
        problems = []
        for f in files:
            if "{{" in f.text or "{%" in f.text:
                problems.append(f"{f.path}: unrendered template syntax")
            if f.path.endswith(".sh") and not f.text.startswith("#!/bin/sh\n"):
                problems.append(f"{f.path}: the interface script does not start with #!/bin/sh")
        return problems
