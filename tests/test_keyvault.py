"""Pre-shared keys in Azure Key Vault: ARM parameter-file references, getSecret() in the
.bicepparam, Get-AzKeyVaultSecret in the Az script; device files take the key only from an env or
file named beside keyvault, with --secrets.

https://learn.microsoft.com/azure/azure-resource-manager/templates/key-vault-parameter (reference
by the vault's resource id and the secret name); https://learn.microsoft.com/azure/azure-resource-manager/bicep/bicep-functions-parameters-file#getsecret
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from checks_bicep import check_files as check_bicep
from checks_powershell import check_text
from conftest import ROOT, render_files, write_inventory

KEYVAULT = ROOT / "tests" / "data" / "keyvault" / "keyvault.yaml"
KEY = "FakeBranch2Key0123456789abcdef"


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return render_files(KEYVAULT)


def test_parameters_files_refer_to_the_vault(files, arm_validator) -> None:
    params = json.loads(files["azure/arm/rg-hub.parameters.json"])["parameters"]
    assert params["pskBranch1Psk"] == {
        "reference": {
            "keyVault": {
                "id": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-keys/providers/Microsoft.KeyVault/vaults/kv-netops"
            },
            "secretName": "branch1-psk",
        }
    }
    links = json.loads(files["azure/arm/rg-hub.links.parameters.json"])["parameters"]
    assert links["pskVnetLinkPsk"]["reference"]["keyVault"]["id"].startswith(
        "/subscriptions/99999999-8888-7777-6666-555555555555/"
    )
    for path, text in files.items():
        if path.startswith("azure/arm/"):
            assert arm_validator(json.loads(text), check_unknown_properties=True) == [], path
    template = json.loads(files["azure/arm/rg-hub.json"])
    assert template["parameters"]["pskBranch1Psk"]["type"] == "securestring"


def test_bicepparam_uses_get_secret(files) -> None:
    text = files["azure/bicep/rg-hub.bicepparam"]
    assert (
        "param pskBranch1Psk = az.getSecret('11111111-2222-3333-4444-555555555555', 'rg-keys', 'kv-netops', 'branch1-psk')"
        in text
    )
    assert "readEnvironmentVariable" not in text
    assert check_bicep({p: t for p, t in files.items() if p.startswith("azure/bicep/")}) == []


def test_no_key_or_placeholder_in_parameters_or_bicepparam(files) -> None:
    for path, text in files.items():
        if path.endswith((".parameters.json", ".bicepparam")):
            assert "REPLACE_WITH" not in text and "<" not in text and KEY not in text, path
            assert (
                "value" not in json.loads(text)["parameters"].get("pskBranch1Psk", {})
                if path.endswith(".json")
                else True
            )


def test_az_script_reads_key_vault_and_azurerm_asks(files) -> None:
    az = files["azure/powershell/deploy.az.ps1"]
    assert check_text("deploy.az.ps1", az) == []
    assert "#Requires -Modules Az.Accounts, Az.Resources, Az.Network, Az.KeyVault\n" in az
    assert "(Get-AzKeyVaultSecret -VaultName 'kv-netops' -Name 'branch1-psk').SecretValue" in az
    assert "-AsPlainText" not in az
    azurerm = files["azure/powershell/deploy.azurerm.ps1"]
    assert check_text("deploy.azurerm.ps1", azurerm) == []
    assert "KeyVault" not in azurerm.split("#>", 1)[1] and "Read-Host -AsSecureString" in azurerm


def test_runbook_writes_no_keys_file_for_vault_keys(files) -> None:
    readme = files["README.md"]
    assert "GEN_KEYS" not in readme  # every Azure key comes from Key Vault: nothing to write
    assert "from Key Vault `kv-netops`, secret `branch1-psk`" in readme
    assert "(rule secret-keyvault-only)" in readme


def _render(tmp_path: Path, inventory: Path, *extra: str, env: dict[str, str] | None = None):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "generator", "render", str(inventory), "-o", str(out), *extra],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    return result, out


def test_device_files_take_the_key_only_from_env_or_file(tmp_path: Path) -> None:
    # branch1's key is only in Key Vault: --secrets says so, at its psk: line.
    result, out = _render(tmp_path, KEYVAULT, "--secrets", env={"GEN_PSK_BRANCH2": KEY})
    assert result.returncode == 2 and "(rule secret-keyvault-only)" in result.stderr
    assert "onprem.connections[0].psk" in result.stderr and not out.exists()
    # Given beside keyvault, the same entry's env reaches the device file.
    text = KEYVAULT.read_text(encoding="utf-8").replace(
        "keyvault: {resource_group: rg-keys, vault: kv-netops, secret: branch1-psk}",
        "keyvault: {resource_group: rg-keys, vault: kv-netops, secret: branch1-psk}\n        env: GEN_PSK_BRANCH1",
    )
    inventory = write_inventory(tmp_path, text)
    result, out = _render(
        tmp_path,
        inventory,
        "--secrets",
        env={"GEN_PSK_BRANCH1": "FakeBranchKey0123456789abcdef", "GEN_PSK_BRANCH2": KEY},
    )
    assert result.returncode == 0, result.stderr
    assert KEY in (out / "onprem" / "branch2" / "branch2-fw.set").read_text(encoding="utf-8")
    for path in (out / "azure").rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("  subscription: 11111111-2222-3333-4444-555555555555\n", "", "keyvault-subscription"),
        (
            "        keyvault: {resource_group: rg-keys, vault: kv-netops, secret: branch2-psk}\n        env: GEN_PSK_BRANCH2",
            "        env: GEN_PSK_BRANCH2\n        file: branch2.psk",
            "secret-one-source",
        ),
    ],
)
def test_refusals(tmp_path: Path, old: str, new: str, rule: str) -> None:
    text = KEYVAULT.read_text(encoding="utf-8")
    assert old in text
    result, out = _render(tmp_path, write_inventory(tmp_path, text.replace(old, new, 1)))
    assert result.returncode == 2 and f"(rule {rule})" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
