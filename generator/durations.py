"""How long Azure operations take, as the runbook and the PowerShell scripts tell the engineer."""

# Microsoft: "A gateway can often take 45 minutes or more to create"
# (https://learn.microsoft.com/azure/vpn-gateway/tutorial-create-gateway-portal); upgrades "take ~45 min"
# (https://learn.microsoft.com/azure/vpn-gateway/gateway-sku-upgrade). Older secondary sources said
# 30-45 minutes; gen takes Microsoft's longer figure (the safe side).
GATEWAY_TIME = "45 minutes or more"
