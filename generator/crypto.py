"""Device-side IPsec values every platform shares: lifetimes, DPD, key text, address formats.

Each vendor's algorithm tokens live in its platform module (generator/platforms/<key>.py, a
`Vendor` table); a missing entry means the platform cannot do it and rule onprem-platform-crypto
refuses the inventory. Azure names (IpsecPolicy fields) come from the connection's
`ipsecPolicies` or Azure's default (facts.DEFAULT_POLICY).

Sources: router-facts.md section 4 (parameter table), A4/A5 (Azure algorithms, DH mapping:
2=MODP1024, 14/2048=MODP2048, 19=ECP256, 20=ECP384, 24=MODP2048 with 256-bit subgroup);
strongSwan proposal keywords: docs.strongswan.org/docs/latest/config/proposals.html.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from . import facts
from .model import IpsecPolicy, SecretRef

# Lifetimes are local (A5); keep the device below Azure's: IKE <= 28800 s (fixed on Azure),
# child SA <= the policy's saLifeTimeSeconds and <= Azure's default 27000 s.
IKE_LIFETIME_SECONDS = facts.IKE_SA_LIFETIME_SECONDS
REKEY_PERCENT = 90  # strongSwan rekeys at 90 % of the hard lifetime
DPD_RETRIES = 3


GCM_INTEGRITY = {"GCMAES256": "", "GCMAES192": "", "GCMAES128": ""}  # GCM carries its own integrity
# IOS-XE (`set pfs groupN`) and Junos (`perfect-forward-secrecy keys groupN`) name PFS groups alike.
PFS_GROUP_NAMES = {
    "PFS24": "group24",
    "ECP384": "group20",
    "ECP256": "group19",
    "PFS2048": "group14",
    "PFS2": "group2",
    "PFS1": "group1",
    "None": "",
}

# Custom policies to suggest when a device refuses Azure's default proposals, strongest first: every
# value is one Azure takes in a custom policy (azure-facts §5.4) and none is on FN72510's list or
# strongSwan's weak list (facts-2026-12 §7: DHGroup14/PFS2048, ECP256/384; AES/GCM; SHA256/384).
SUGGESTED_POLICIES = (
    {
        "ike_encryption": "AES256",
        "ike_integrity": "SHA256",
        "dh_group": "DHGroup14",
        "ipsec_encryption": "AES256",
        "ipsec_integrity": "SHA256",
        "pfs_group": "PFS2048",
    },
    {
        "ike_encryption": "GCMAES256",
        "ike_integrity": "SHA384",
        "dh_group": "ECP384",
        "ipsec_encryption": "GCMAES256",
        "ipsec_integrity": "GCMAES256",
        "pfs_group": "ECP384",
    },
)

FIELDS = ("ike_encryption", "ike_integrity", "dh_group", "ipsec_encryption", "ipsec_integrity", "pfs_group")


def is_gcm(value: str) -> bool:
    return value.startswith("GCM")


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


def unquote(text: str) -> str:
    """The text of a `quoted` string (unchanged when not quoted): how the read-back parsers see keys."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def net_address(prefix: object) -> str:
    """Network address of a prefix (an IPv4Network or its text), e.g. 172.16.0.0."""
    return str(ipaddress.IPv4Network(str(prefix)).network_address)


def net_mask(prefix: object) -> str:
    """Dotted netmask of a prefix, as IOS wants it, e.g. 255.255.0.0."""
    return str(ipaddress.IPv4Network(str(prefix)).netmask)


def psk_text(ref: SecretRef, keys: Mapping[str, str]) -> str:
    """What a device file says for a pre-shared key: the key with --secrets (marked, so the file is
    written 0600 whatever escaping follows; see generator.secrets.mark), else its placeholder."""
    from .secrets import mark

    key = keys.get(ref.parameter)
    return ref.placeholder if key is None else mark(key)


FILTERS = {
    "psk_text": psk_text,
    "net_address": net_address,
    "net_mask": net_mask,
    "quoted": quoted,
    "child_lifetime": child_lifetime,
    "rekey": rekey,
    "dpd_interval": dpd_interval,
}
