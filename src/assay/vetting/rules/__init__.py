"""The package rules of ``assay vet``, one module per family (see :mod:`.base`)."""

from assay.vetting.rules import (
    behaviour,
    capabilities,
    exfil,
    install,
    integrity,
    models,
    obfuscation,
    payloads,
)
from assay.vetting.rules.base import FileContext, PackageFinding, PackageInfo, Rule

ALL_RULES: tuple[Rule, ...] = (
    *install.RULES,
    *capabilities.RULES,
    *obfuscation.RULES,
    *behaviour.RULES,
    *exfil.RULES,
    *payloads.RULES,
    *models.RULES,
    *integrity.RULES,
)

__all__ = ["ALL_RULES", "FileContext", "PackageFinding", "PackageInfo", "Rule"]
