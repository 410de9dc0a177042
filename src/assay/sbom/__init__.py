"""Software bills of materials: CycloneDX and SPDX documents built from an Environment.

``cyclonedx``, ``spdx2`` and ``spdx3`` turn an :class:`~assay.environments.model.Environment`
(with the authors, maintainers and links its readers found in core metadata)
into a validated document; ``check`` scores any CycloneDX or SPDX JSON
document against the NTIA and CISA 2025 minimum elements.
"""
