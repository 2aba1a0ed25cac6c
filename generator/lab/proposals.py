"""Azure IPsec/IKE vocabulary -> strongSwan proposal keywords, for the lab's emulated peers.

The tokens come from the platform whose files the lab runs (generator/platforms/, `lab_files`),
so the emulated peers and the real device files share one vocabulary.
Azure defaults (route-based, responder): docs/router-facts.md A1/A2 (vpn-gateway-about-vpn-devices).
"""

from __future__ import annotations

from ..model import IpsecPolicy
from ..platforms import lab_platforms

# What an Azure gateway accepts as responder with its default policy (A1/A2, a representative subset).
AZURE_DEFAULT_IKE = (
    "aes256-sha256-modp1024",
    "aes256-sha1-modp1024",
    "aes128-sha256-modp1024",
    "aes128-sha1-modp1024",
    "3des-sha1-modp1024",
    "aes256-sha256-modp2048",
)
AZURE_DEFAULT_ESP = (
    "aes256gcm16",
    "aes256-sha256",
    "aes256-sha1",
    "aes128-sha256",
    "aes128-sha1",
    "3des-sha1",
    "aes256-sha256-modp1024",
    "aes256-sha256-modp2048",
    "aes256-sha1-modp1024",
    "aes256-sha1-modp2048",
)


def ike_proposal(policy: IpsecPolicy) -> str:
    """The one IKE proposal of a policy, in the lab platform's own vocabulary."""
    return lab_platforms()[0].lab_proposals(policy)[0]


def esp_proposal(policy: IpsecPolicy) -> str:
    """The one ESP proposal of a policy, in the lab platform's own vocabulary."""
    return lab_platforms()[0].lab_proposals(policy)[1]


def azure_proposals(policy: IpsecPolicy) -> tuple[str, str]:
    """(IKE proposals, ESP proposals) an Azure gateway accepts: exactly the custom policy (A6), or its defaults."""
    if policy.custom:
        return ike_proposal(policy), esp_proposal(policy)
    return ",".join(AZURE_DEFAULT_IKE), ",".join(AZURE_DEFAULT_ESP)


# A proposal no Azure policy in the examples uses: injected to prove NO_PROPOSAL_CHOSEN is reported.
MISMATCHED_IKE = "aes128-sha1-ecp256"
