"""Let plain `rasa train`, `rasa data validate` and `rasa test` see `domain.yml` plus `domain/`.

The CLI takes a single domain path; this importer, listed alone under `importers:` in
`config.yml`, merges the shared `domain.yml` with the per-feature files in `domain/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Text, Union

from rasa.shared.core.domain import Domain
from rasa.shared.importers.rasa import RasaFileImporter

FEATURE_DOMAIN_FOLDER = "domain"


def domain_paths(domain_path: Optional[Text]) -> List[Path]:
    """The shared domain file (or folder) and, beside it, the per-feature domain folder."""
    if not domain_path:
        return []
    shared = Path(domain_path)
    paths = [shared]
    features = (shared.parent if shared.is_file() else shared.parent) / FEATURE_DOMAIN_FOLDER
    if features.is_dir() and features.resolve() != shared.resolve():
        paths.append(features)
    return paths


class SplitDomainImporter(RasaFileImporter):
    """A `RasaFileImporter` whose domain is `domain.yml` merged with every file in `domain/`."""

    def __init__(
        self,
        config_file: Optional[Text] = None,
        domain_path: Optional[Text] = None,
        training_data_paths: Optional[Union[List[Text], Text]] = None,
    ) -> None:
        super().__init__(config_file, domain_path, training_data_paths)

    def get_domain(self) -> Domain:
        """Load and merge the shared and per-feature domain files."""
        paths = domain_paths(self._domain_path)
        if not paths:
            return Domain.empty()
        return Domain.load([str(path) for path in paths])
