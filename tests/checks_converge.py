"""Static proof that the generated PowerShell converges: it changes only what differs.

No PowerShell runtime or Azure subscription is reachable here, so the tree-sitter-powershell parse
of each script is checked for the shape that makes a rerun safe:

- every update (`Set-*`/`Update-*` of the Az or AzureRM module, the context switch excepted) sits
  in the branch of an `if` on `$GenChanges.Count -gt 0` and in the branch of an `if` on
  `$PSCmdlet.ShouldProcess(...)`; gateway updates also behind `ShouldContinue` unless `-Force`;
- every `$GenChanges += ...` (the only way into that list) sits in the branch of an `if` whose
  condition reads a property `$obj.Prop` of a resource read from Azure, and that branch changes
  the same `$obj.Prop` (an assignment to it or below it) or passes `$obj` to a cmdlet that edits it
  (`Add-*SubnetConfig -VirtualNetwork $vnet`, `Add-*IpConfig -VirtualNetworkGateway $gw`);
- the object each update sends is one whose properties were compared;
- no lookup swallows errors (`-ErrorAction SilentlyContinue` turns a 403 into "create it").

What this cannot prove (README): that the property names match the Az object model at run time,
that Azure accepts the full PUT, or the timing of Azure's provisioning states.
"""

from __future__ import annotations

import re

from checks_powershell import parser

UPDATE = re.compile(r"^(?:Set|Update)-(?!(?:AzureRm|Az)Context$)(?:AzureRm|Az)\w+(?<!Config)$", re.IGNORECASE)
# In-memory edits of a read object (Add-/Set-/Remove-*Config -NetworkSecurityGroup $nsg ...): they
# change nothing in Azure by themselves, and must sit in a comparison that records the change.
EDIT = re.compile(r"^(?:Add|Set|Remove)-(?:AzureRm|Az)\w+Config$", re.IGNORECASE)
SHARED_KEY = re.compile(r"^Set-(?:AzureRm|Az)VirtualNetworkGatewayConnectionSharedKey$", re.IGNORECASE)
# `$part = $whole.Prop ...`: comparing and changing $part compares and changes $whole.
PART = re.compile(r"^\s*\$(\w+) = @?\(?\$(\w+)\.\w+", re.MULTILINE)
MEMBER = re.compile(r"\$([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)")


def _text(src: bytes, node) -> str:
    return src[node.start_byte : node.end_byte].decode("utf-8")


def _walk(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _guards(node, src: bytes) -> list[str]:
    """Conditions under which `node` runs: each enclosing if/elseif whose own branch holds it."""
    found = []
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in ("if_statement", "elseif_clause") and child.type == "statement_block":
            condition = next((c for c in parent.children if c.type == "pipeline"), None)
            if condition is not None:
                found.append(_text(src, condition))
        child, parent = parent, parent.parent
    return found


def _branch(node):
    """The innermost statement block of an if/elseif branch holding `node`, with its condition."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in ("if_statement", "elseif_clause") and child.type == "statement_block":
            return next((c for c in parent.children if c.type == "pipeline"), None), child
        child, parent = parent, parent.parent
    return None, None


def _blocks(node):
    """Every if/elseif branch block holding `node`, innermost first."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in ("if_statement", "elseif_clause") and child.type == "statement_block":
            yield child
        child, parent = parent, parent.parent


def _recorded(node, src: bytes) -> bool:
    """Whether `node` sits in a comparison branch that records a change: a branch inside the
    resource's own (the one that starts `$GenChanges = @()`) holding a `$GenChanges +=`."""
    for block in _blocks(node):
        body = _text(src, block)
        if "$GenChanges = @()" in body:
            return False
        if "$GenChanges +=" in body:
            return True
    return False


def _shared_key_problems(path: str, line: int, name: str, node, src: bytes) -> list[str]:
    """A pre-shared key is set only when the key Azure holds (read with the Get cmdlet of the same
    connection) differs from the inventory's, behind ShouldProcess and ShouldContinue unless -Force."""
    problems = []
    guards = _guards(node, src)
    if not any("$PSCmdlet.ShouldProcess(" in g for g in guards):
        problems.append(f"{path}:{line}: {name} is not behind $PSCmdlet.ShouldProcess")
    if not any("$Force" in g and "$PSCmdlet.ShouldContinue(" in g for g in guards):
        problems.append(f"{path}:{line}: {name} (disruptive) is not behind ShouldContinue unless -Force")
    call = _text(src, node)
    target = re.search(r" -Name (\S+) -ResourceGroupName (\S+)", call)
    before = src[: node.start_byte].decode("utf-8")
    reads = re.findall(r"^\s*\$GenKeyDiffers = (.*)$", before, re.MULTILINE)
    expected = (
        target
        and f"VirtualNetworkGatewayConnectionSharedKey -Name {target.group(1)} -ResourceGroupName {target.group(2)})"
        in reads[-1]
        and " -cne " in reads[-1]
        if reads
        else False
    )
    if "$GenKeyDiffers" not in guards or not expected:
        problems.append(f"{path}:{line}: {name} is not inside a comparison of the key this connection holds")
    return problems


def converge_problems(path: str, text: str) -> list[str]:
    src = text.encode("utf-8")
    root = parser().parse(src).root_node
    problems = []
    if "SilentlyContinue" in text:
        problems.append(f"{path}: a lookup uses -ErrorAction SilentlyContinue (a 403 would read as 'missing')")
    compared: set[str] = set()
    parts = {m.group(1): m.group(2) for m in PART.finditer(text) if m.group(1) != m.group(2)}
    for node in _walk(root):
        if node.type != "assignment_expression":
            continue
        left = next((c for c in node.children if c.type == "left_assignment_expression"), None)
        operator = next((c for c in node.children if c.type == "assignement_operator"), None)
        if left is None or operator is None or _text(src, left).strip() != "$GenChanges":
            continue
        if _text(src, operator).strip() != "+=":
            continue
        line = node.start_point[0] + 1
        condition, block = _branch(node)
        if condition is None:
            problems.append(f"{path}:{line}: $GenChanges += outside any comparison")
            continue
        if "Get-GenLbShape -LoadBalancer $lb" in _text(src, condition):
            # A load balancer is compared as a whole and sent whole: New-*LoadBalancer -Force with
            # every part from the inventory (checked below with the updates).
            compared.add("lb")
            continue
        read = {(m.group(1), m.group(2)) for m in MEMBER.finditer(_text(src, condition))}
        body = _text(src, block)
        changed = False
        for var, member in read:
            if var in ("GenChanges", "PSCmdlet"):
                continue
            first = member.split(".")[1]
            assigned = re.search(rf"\${var}\.{first}(?:\.\w+)*(?:\.Add\(|\s*=[^=])", body)
            edited = re.search(rf"-\w+ \${var}\b", body)
            if assigned or edited:
                changed = True
                while var and var not in compared:
                    compared.add(var)
                    var = parts.get(var)
        if not changed:
            problems.append(
                f"{path}:{line}: the branch of ({_text(src, condition)}) records a change but does not change what it compares"
            )
    for node in _walk(root):
        # An edit of a compared object (`$obj.Prop = ...`, `$obj.Prop.Add(...)`) records the change.
        if node.type not in ("assignment_expression", "invocation_expression"):
            continue
        edit = re.match(r"\$(\w+)\.[\w.]+(?:\s*=[^=]|\.Add\()", _text(src, node))
        if edit and edit.group(1) in compared and not _recorded(node, src):
            problems.append(
                f"{path}:{node.start_point[0] + 1}: an edit of ${edit.group(1)} is not in a comparison that records the change"
            )
    for node in _walk(root):
        if node.type != "command":
            continue
        name_node = next((c for c in node.children if c.type == "command_name"), None)
        if name_node is None:
            continue
        name, line = _text(src, name_node), node.start_point[0] + 1
        if re.match(r"^New-(?:AzureRm|Az)LoadBalancer$", name, re.IGNORECASE):
            guards = _guards(node, src)
            if " -Force" not in _text(src, node) or not any("$GenChanges.Count -gt 0" in g for g in guards):
                problems.append(f"{path}:{line}: {name} is not the update sent when the compared load balancer differs")
            if "lb" not in compared or not any("$PSCmdlet.ShouldProcess(" in g for g in guards):
                problems.append(f"{path}:{line}: {name} is not behind a comparison and ShouldProcess")
            continue
        if EDIT.match(name) and not name.lower().startswith("new-"):
            if not _recorded(node, src):
                problems.append(f"{path}:{line}: {name} edits an object outside a comparison that records the change")
            continue
        if SHARED_KEY.match(name):
            problems += _shared_key_problems(path, line, name, node, src)
            continue
        if not UPDATE.match(name):
            continue
        guards = _guards(node, src)
        if not any(re.search(r"\$GenChanges\.Count -gt 0", g) for g in guards):
            problems.append(f"{path}:{line}: {name} is not inside `if ($GenChanges.Count -gt 0)`")
        if not any("$PSCmdlet.ShouldProcess(" in g for g in guards):
            problems.append(f"{path}:{line}: {name} is not behind $PSCmdlet.ShouldProcess")
        if name.lower().endswith("virtualnetworkgateway") and not any(
            "$Force" in g and "$PSCmdlet.ShouldContinue(" in g for g in guards
        ):
            problems.append(f"{path}:{line}: {name} (disruptive) is not behind ShouldContinue unless -Force")
        sent = re.search(r" -\w+ \$(\w+)", _text(src, node))
        if sent is None or sent.group(1) not in compared:
            problems.append(f"{path}:{line}: {name} sends an object whose properties were never compared")
    return problems


def check_files(files: dict[str, str]) -> list[str]:
    problems = []
    for path, text in sorted(files.items()):
        if path.endswith(".ps1"):
            problems += converge_problems(path, text)
    return problems
