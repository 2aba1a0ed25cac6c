"""Azure IPsec/IKE vocabulary -> strongSwan proposal keywords, for the lab's emulated peers.

Token names: strongSwan docs/modules/ROOT/pages/config/proposals.adoc (IKEv2 cipher suites).
Azure defaults (route-based, responder): docs/router-facts.md A1/A2 (vpn-gateway-about-vpn-devices).
"""

from __future__ import annotations

from ..model import IpsecPolicy

ENCRYPTION = {
    "AES256": "aes256",
    "AES192": "aes192",
    "AES128": "aes128",
    "GCMAES256": "aes256gcm16",
    "GCMAES192": "aes192gcm16",
    "GCMAES128": "aes128gcm16",
    "DES3": "3des",
    "DES": "des",
    "None": "null",
}
INTEGRITY = {"SHA384": "sha384", "SHA256": "sha256", "SHA1": "sha1", "MD5": "md5"}
DH_GROUP = {
    "DHGroup1": "modp768",
    "DHGroup2": "modp1024",
    "DHGroup14": "modp2048",
    "DHGroup2048": "modp2048",
    "DHGroup24": "modp2048s256",
    "ECP256": "ecp256",
    "ECP384": "ecp384",
    "PFS1": "modp768",
    "PFS2": "modp1024",
    "PFS14": "modp2048",
    "PFS2048": "modp2048",
    "PFS24": "modp2048s256",
    "PFSMM": "modp2048s256",
    "None": "",
}

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


def _join(*parts: str) -> str:
    return "-".join(p for p in parts if p)


def ike_proposal(policy: IpsecPolicy) -> str:
    """The one IKE proposal of a policy, e.g. aes256-sha256-modp2048 (GCM: PRF from the integrity)."""
    enc = ENCRYPTION[policy.ike_encryption]
    integrity = INTEGRITY[policy.ike_integrity]
    if "gcm" in enc:
        integrity = "prf" + integrity
    return _join(enc, integrity, DH_GROUP[policy.dh_group])


def esp_proposal(policy: IpsecPolicy) -> str:
    """The one ESP proposal of a policy, e.g. aes256gcm16-modp2048 (GCM carries its own integrity)."""
    enc = ENCRYPTION[policy.ipsec_encryption]
    integrity = "" if "gcm" in enc else INTEGRITY.get(policy.ipsec_integrity, "")
    return _join(enc, integrity, DH_GROUP[policy.pfs_group])


def azure_proposals(policy: IpsecPolicy) -> tuple[str, str]:
    """(IKE proposals, ESP proposals) an Azure gateway accepts: exactly the custom policy (A6), or its defaults."""
    if policy.custom:
        return ike_proposal(policy), esp_proposal(policy)
    return ",".join(AZURE_DEFAULT_IKE), ",".join(AZURE_DEFAULT_ESP)


# A proposal no Azure policy in the examples uses: injected to prove NO_PROPOSAL_CHOSEN is reported.
MISMATCHED_IKE = "aes128-sha1-ecp256"
