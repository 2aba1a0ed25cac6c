"""What an Azure resource kind is: the shape every unit under generator/azure_kinds/ fills in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..model import Model, ResourceGroup, ResourceRef

if TYPE_CHECKING:
    from ..targets.bicep import Symbols


@dataclass(frozen=True, slots=True)
class Item:
    """One resource (or looped set) that a resource-group deployment declares."""

    kind: str  # template name under arm/resources/ and bicep/resources/
    obj: Any
    depends: tuple[ResourceRef, ...] = ()
    stage: int = 0  # 0: the kind's first stage; a kind with several stages says which


@dataclass(frozen=True, slots=True)
class Created:
    """What a resource group's stage 1 creates, for the dependencies between its items."""

    vnets: dict[str, Any]  # VNet name -> Vnet (not existing)
    gateways: frozenset[str]  # gateway names

    @classmethod
    def of(cls, rg: ResourceGroup) -> Created:
        return cls({v.name: v for v in rg.vnets if not v.existing}, frozenset(gw.name for gw in rg.gateways))


@dataclass(frozen=True, slots=True)
class PsStep:
    """A numbered step of the PowerShell scripts (template powershell/steps/<key>.ps1.j2)."""

    order: int  # position among the steps (resource groups come first, the state file last)
    key: str
    title: str


class Kind:
    """One Azure resource kind: its items, its template names, its PowerShell step, its Bicep symbols.

    The templates are `arm/resources/<key>.json.j2` and `bicep/resources/<bicep_key>.bicep.j2`
    (users override them file by file with --templates).
    """

    key: ClassVar[str]
    label: ClassVar[str]  # plural, for `gen plan`
    resource_type: ClassVar[str]  # e.g. Microsoft.Network/virtualNetworks
    bicep_suffix: ClassVar[str]  # appended to a Bicep symbol that is already taken
    stage: ClassVar[int]  # 1: what the group owns; 2: needs other groups' stage 1; 3: needs stage 2
    stages: ClassVar[tuple[int, ...]] = ()  # when the kind's items span stages: every one of them
    ps_step: ClassVar[PsStep]

    @property
    def bicep_key(self) -> str:
        return self.key

    def items(self, rg: ResourceGroup, created: Created) -> list[Item]:
        raise NotImplementedError

    def ps_needed(self, model: Model) -> bool:
        """Whether this inventory needs the kind's PowerShell step."""
        raise NotImplementedError

    def bicep_object(self, obj: Any) -> Any:
        """What the Bicep template of one item gets (a kind that loops groups items by it)."""
        return obj

    def bicep_declare(self, obj: Any, symbols: Symbols) -> None:
        """Give the resource(s) this item declares a symbolic name."""
        symbols.add(obj.ref, obj.name)

    def bicep_declares(self, obj: Any) -> Iterable[ResourceRef]:
        """Resources the item creates (so they are not also declared `existing`)."""
        return (obj.ref,)

    def bicep_reads(self, obj: Any, rg: ResourceGroup) -> Iterable[ResourceRef]:
        """Resources the item's Bicep refers to by symbol (declared `existing` when not created)."""
        return ()
