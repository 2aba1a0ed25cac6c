"""Azure IPsec/IKE vocabulary -> each vendor's tokens: one table per vendor, exposed as filters.

Azure names (IpsecPolicy fields) come from the connection's `ipsecPolicies` or Azure's default
(facts.DEFAULT_POLICY). A missing table entry means the platform cannot do it: rules_onprem.py
refuses such an inventory (rule onprem-platform-crypto) before anything renders.

Sources: router-facts.md section 4 (parameter table), A4/A5 (Azure algorithms, DH mapping:
2=MODP1024, 14/2048=MODP2048, 19=ECP256, 20=ECP384, 24=MODP2048 with 256-bit subgroup);
strongSwan proposal keywords: docs.strongswan.org/docs/latest/config/proposals.html.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

from . import facts
from .model import IpsecPolicy, SecretRef

# Lifetimes are local (A5); keep the device below Azure's: IKE <= 28800 s (fixed on Azure),
# child SA <= the policy's saLifeTimeSeconds and <= Azure's default 27000 s.
IKE_LIFETIME_SECONDS = facts.IKE_SA_LIFETIME_SECONDS
REKEY_PERCENT = 90  # strongSwan rekeys at 90 % of the hard lifetime
DPD_RETRIES = 3


@dataclass(frozen=True, slots=True)
class Vendor:
    """One vendor's names for Azure's algorithm values; a missing key = not supported."""

    ike_encryption: dict[str, str]
    ike_integrity: dict[str, str]
    dh_group: dict[str, str]
    ipsec_encryption: dict[str, str]
    ipsec_integrity: dict[str, str]  # GCM integrity is implied by GCM encryption: value ""
    pfs_group: dict[str, str]  # "None" -> "" (no PFS)


_GCM_INTEGRITY = {"GCMAES256": "", "GCMAES192": "", "GCMAES128": ""}
# IOS-XE (`set pfs groupN`) and Junos (`perfect-forward-secrecy keys groupN`) name PFS groups alike.
_PFS_GROUP_NAMES = {
    "PFS24": "group24",
    "ECP384": "group20",
    "ECP256": "group19",
    "PFS2048": "group14",
    "PFS2": "group2",
    "PFS1": "group1",
    "None": "",
}

CISCO = Vendor(
    ike_encryption={
        "AES256": "aes-cbc-256",
        "AES192": "aes-cbc-192",
        "AES128": "aes-cbc-128",
        "GCMAES256": "aes-gcm-256",
        "GCMAES128": "aes-gcm-128",
    },
    ike_integrity={"SHA384": "sha384", "SHA256": "sha256", "SHA1": "sha1", "MD5": "md5"},
    dh_group={
        "DHGroup24": "24",
        "ECP384": "20",
        "ECP256": "19",
        "DHGroup14": "14",
        "DHGroup2048": "14",
        "DHGroup2": "2",
        "DHGroup1": "1",
    },
    ipsec_encryption={
        "GCMAES256": "esp-gcm 256",
        "GCMAES192": "esp-gcm 192",
        "GCMAES128": "esp-gcm 128",
        "AES256": "esp-aes 256",
        "AES192": "esp-aes 192",
        "AES128": "esp-aes 128",
        "DES3": "esp-3des",
        "DES": "esp-des",
        "None": "esp-null",
    },
    ipsec_integrity={"SHA256": "esp-sha256-hmac", "SHA1": "esp-sha-hmac", "MD5": "esp-md5-hmac", **_GCM_INTEGRITY},
    pfs_group=_PFS_GROUP_NAMES,
)

JUNOS = Vendor(
    ike_encryption={
        "AES256": "aes-256-cbc",
        "AES192": "aes-192-cbc",
        "AES128": "aes-128-cbc",
        "GCMAES256": "aes-256-gcm",
        "GCMAES128": "aes-128-gcm",
    },
    ike_integrity={"SHA384": "sha-384", "SHA256": "sha-256", "SHA1": "sha1", "MD5": "md5"},
    dh_group={
        "DHGroup24": "group24",
        "ECP384": "group20",
        "ECP256": "group19",
        "DHGroup14": "group14",
        "DHGroup2048": "group14",
        "DHGroup2": "group2",
        "DHGroup1": "group1",
    },
    ipsec_encryption={
        "GCMAES256": "aes-256-gcm",
        "GCMAES192": "aes-192-gcm",
        "GCMAES128": "aes-128-gcm",
        "AES256": "aes-256-cbc",
        "AES192": "aes-192-cbc",
        "AES128": "aes-128-cbc",
        "DES3": "3des-cbc",
        "DES": "des-cbc",
    },
    ipsec_integrity={"SHA256": "hmac-sha-256-128", "SHA1": "hmac-sha1-96", "MD5": "hmac-md5-96", **_GCM_INTEGRITY},
    pfs_group=_PFS_GROUP_NAMES,
)

STRONGSWAN = Vendor(
    ike_encryption={
        "AES256": "aes256",
        "AES192": "aes192",
        "AES128": "aes128",
        "GCMAES256": "aes256gcm16",
        "GCMAES128": "aes128gcm16",
    },
    ike_integrity={"SHA384": "sha384", "SHA256": "sha256", "SHA1": "sha1", "MD5": "md5"},
    dh_group={
        "DHGroup24": "modp2048s256",
        "ECP384": "ecp384",
        "ECP256": "ecp256",
        "DHGroup14": "modp2048",
        "DHGroup2048": "modp2048",
        "DHGroup2": "modp1024",
        "DHGroup1": "modp768",
    },
    ipsec_encryption={
        "GCMAES256": "aes256gcm16",
        "GCMAES192": "aes192gcm16",
        "GCMAES128": "aes128gcm16",
        "AES256": "aes256",
        "AES192": "aes192",
        "AES128": "aes128",
        "DES3": "3des",
        "DES": "des",
        "None": "null",
    },
    ipsec_integrity={"SHA256": "sha256", "SHA1": "sha1", "MD5": "md5", **_GCM_INTEGRITY},
    pfs_group={
        "PFS24": "modp2048s256",
        "ECP384": "ecp384",
        "ECP256": "ecp256",
        "PFS2048": "modp2048",
        "PFS2": "modp1024",
        "PFS1": "modp768",
        "None": "",
    },
)

VENDORS: dict[str, Vendor] = {"cisco_iosxe": CISCO, "juniper_srx": JUNOS, "strongswan_frr": STRONGSWAN}

# Junos derives the IKE PRF from the GCM key size (no authentication-algorithm with GCM in IKE);
# Azure's ike_integrity is the PRF then, so it must be the one Junos uses.
JUNOS_GCM_PRF = {"GCMAES128": "SHA256", "GCMAES256": "SHA384"}

FIELDS = ("ike_encryption", "ike_integrity", "dh_group", "ipsec_encryption", "ipsec_integrity", "pfs_group")


def unsupported(platform: str, policy: IpsecPolicy) -> list[tuple[str, str]]:
    """(field, Azure value) pairs the platform cannot render; empty when it can do the policy."""
    vendor = VENDORS[platform]
    missing = [(f, getattr(policy, f)) for f in FIELDS if getattr(policy, f) not in getattr(vendor, f)]
    gcm_prf = JUNOS_GCM_PRF.get(policy.ike_encryption) if platform == "juniper_srx" else None
    if gcm_prf and policy.ike_integrity != gcm_prf:
        missing.append(("ike_integrity", policy.ike_integrity))
    return missing


def _gcm(value: str) -> bool:
    return value.startswith("GCM")


# ---------------------------------------------------------------- filters: Cisco IOS-XE
def ios_ike_proposal(policy: IpsecPolicy) -> list[str]:
    """Lines of `crypto ikev2 proposal` (AEAD: prf instead of integrity)."""
    key = "prf" if _gcm(policy.ike_encryption) else "integrity"
    return [
        f"encryption {CISCO.ike_encryption[policy.ike_encryption]}",
        f"{key} {CISCO.ike_integrity[policy.ike_integrity]}",
        f"group {CISCO.dh_group[policy.dh_group]}",
    ]


def ios_transform_set(policy: IpsecPolicy) -> str:
    """Transforms of `crypto ipsec transform-set` (GCM carries its own integrity)."""
    parts = [CISCO.ipsec_encryption[policy.ipsec_encryption], CISCO.ipsec_integrity[policy.ipsec_integrity]]
    return " ".join(p for p in parts if p)


def ios_pfs(policy: IpsecPolicy) -> str:
    """`set pfs` group, or '' without PFS."""
    return CISCO.pfs_group[policy.pfs_group]


# ---------------------------------------------------------------- filters: Junos
def junos_ike_proposal(policy: IpsecPolicy) -> list[str]:
    """Statements of `security ike proposal` (no authentication-algorithm with GCM)."""
    lines = [
        "authentication-method pre-shared-keys",
        f"dh-group {JUNOS.dh_group[policy.dh_group]}",
        f"encryption-algorithm {JUNOS.ike_encryption[policy.ike_encryption]}",
    ]
    if not _gcm(policy.ike_encryption):
        lines.insert(1, f"authentication-algorithm {JUNOS.ike_integrity[policy.ike_integrity]}")
    return lines


def junos_ipsec_proposal(policy: IpsecPolicy) -> list[str]:
    """Statements of `security ipsec proposal`."""
    lines = ["protocol esp"]
    integrity = JUNOS.ipsec_integrity[policy.ipsec_integrity]
    if integrity:
        lines.append(f"authentication-algorithm {integrity}")
    lines.append(f"encryption-algorithm {JUNOS.ipsec_encryption[policy.ipsec_encryption]}")
    return lines


def junos_pfs(policy: IpsecPolicy) -> str:
    return JUNOS.pfs_group[policy.pfs_group]


# ---------------------------------------------------------------- filters: strongSwan
def swan_ike_proposal(policy: IpsecPolicy) -> str:
    """`proposals` value, e.g. aes256-sha256-modp2048 or aes256gcm16-prfsha384-ecp384."""
    integrity = STRONGSWAN.ike_integrity[policy.ike_integrity]
    middle = f"prf{integrity}" if _gcm(policy.ike_encryption) else integrity
    return "-".join((STRONGSWAN.ike_encryption[policy.ike_encryption], middle, STRONGSWAN.dh_group[policy.dh_group]))


def swan_esp_proposal(policy: IpsecPolicy) -> str:
    """`esp_proposals` value; the PFS group is the key-exchange suffix."""
    parts = [
        STRONGSWAN.ipsec_encryption[policy.ipsec_encryption],
        STRONGSWAN.ipsec_integrity[policy.ipsec_integrity],
        STRONGSWAN.pfs_group[policy.pfs_group],
    ]
    return "-".join(p for p in parts if p)


# ---------------------------------------------------------------- filters: timers
def child_lifetime(policy: IpsecPolicy) -> int:
    """Device child SA lifetime: at most the policy's (or Azure's default) value."""
    return min(policy.sa_lifetime_seconds, facts.DEFAULT_CHILD_SA_LIFETIME_SECONDS)


def rekey(seconds: int) -> int:
    """strongSwan rekey time for a hard lifetime (it rekeys before the limit)."""
    return seconds * REKEY_PERCENT // 100


def dpd_interval(timeout: int) -> int:
    """Device DPD interval from Azure's dpdTimeoutSeconds: DPD_RETRIES probes fit the timeout."""
    return max(10, min(60, timeout // DPD_RETRIES))


def quoted(value: object) -> str:
    """A double-quoted string for Junos and swanctl (backslash and quote escaped)."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def net_address(prefix: object) -> str:
    """Network address of a prefix (an IPv4Network or its text), e.g. 172.16.0.0."""
    return str(ipaddress.IPv4Network(str(prefix)).network_address)


def net_mask(prefix: object) -> str:
    """Dotted netmask of a prefix, as IOS wants it, e.g. 255.255.0.0."""
    return str(ipaddress.IPv4Network(str(prefix)).netmask)


def swan_section(name: object) -> str:
    """A swanctl section name: letters, digits, '-' and '_' only ('.' would open a subsection)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(name))


def psk_text(ref: SecretRef, keys: Mapping[str, str]) -> str:
    """What a device file says for a pre-shared key: the key with --secrets (marked, so the file is
    written 0600 whatever escaping follows; see generator.secrets.mark), else its placeholder."""
    from .secrets import mark

    key = keys.get(ref.parameter)
    return ref.placeholder if key is None else mark(key)


FILTERS = {
    "psk_text": psk_text,
    "swan_section": swan_section,
    "net_address": net_address,
    "net_mask": net_mask,
    "quoted": quoted,
    "ios_ike_proposal": ios_ike_proposal,
    "ios_transform_set": ios_transform_set,
    "ios_pfs": ios_pfs,
    "junos_ike_proposal": junos_ike_proposal,
    "junos_ipsec_proposal": junos_ipsec_proposal,
    "junos_pfs": junos_pfs,
    "swan_ike_proposal": swan_ike_proposal,
    "swan_esp_proposal": swan_esp_proposal,
    "child_lifetime": child_lifetime,
    "rekey": rekey,
    "dpd_interval": dpd_interval,
}
