"""The business's approved WhatsApp message templates: listed (paged, cached) and sent as `"type": "template"`.

Outside the 24-hour customer-service window only an approved template reaches a customer.
The list comes from `GET {WHATSAPP_API_URL}/{WHATSAPP_BUSINESS_ACCOUNT_ID}/message_templates`,
every page of it, and is kept a few minutes: attendants open the picker often, Meta's list
changes rarely. A template's body has positional `{{1}}` placeholders, filled by body parameters.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from supportdesk.whatsapp.graph_api import GraphApiClient

CACHE_SECONDS = 300.0  # Meta approves or pauses a template in minutes at the quickest
MAX_PAGES = 20  # 20 pages of 100: more templates than any business keeps; stops a cursor loop
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


class TemplateProblem(ValueError):
    """The template call names no approved template, or gives the wrong parameters."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class Template:
    """One approved template as the attendant API shows it."""

    name: str
    language: str
    category: str
    body: str
    parameters: int

    def to_json(self) -> Dict[str, Any]:
        """`name`, `language`, `category`, `body`, `parameters` (how many `{{n}}` the body has)."""
        return dataclasses.asdict(self)

    def render(self, values: Sequence[str]) -> str:
        """The body as the customer reads it, placeholders filled."""
        return PLACEHOLDER.sub(lambda match: _value(values, int(match.group(1))), self.body)

    def message(self, values: Sequence[str]) -> Dict[str, Any]:
        """The Graph message object (without `to`) that sends this template with `values`."""
        template: Dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        if values:
            template["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": value} for value in values]}
            ]
        return {"type": "template", "template": template}


def _value(values: Sequence[str], number: int) -> str:
    return values[number - 1] if 1 <= number <= len(values) else ""


def placeholder_count(body: str) -> int:
    """How many distinct `{{n}}` the body has."""
    return len({match.group(1) for match in PLACEHOLDER.finditer(body)})


def approved_templates(data: Sequence[Mapping[str, Any]]) -> List[Template]:
    """The approved templates of one page of Meta's answer (others are skipped)."""
    found = []
    for item in data:
        if not isinstance(item, Mapping) or item.get("status") != "APPROVED":
            continue
        bodies = [part.get("text") for part in item.get("components") or [] if isinstance(part, Mapping)
                  and part.get("type") == "BODY"]
        body = str(bodies[0]) if bodies and bodies[0] else ""
        name, language = item.get("name"), item.get("language")
        if isinstance(name, str) and isinstance(language, str):
            category = str(item.get("category") or "")
            found.append(Template(name, language, category, body, placeholder_count(body)))
    return found


class TemplateCatalog:
    """The approved templates of one business account, listed through the Graph client and cached."""

    def __init__(
        self,
        graph: Optional[GraphApiClient],
        business_account_id: Optional[str],
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._graph = graph
        self._account = business_account_id
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cached: Optional[List[Template]] = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def templates(self) -> List[Template]:
        """Every approved template (empty without a business account id or a Graph client)."""
        if self._graph is None or not self._account:
            return []
        async with self._lock:
            if self._cached is None or self._clock() - self._fetched_at >= self._cache_seconds:
                self._cached = await self._fetch()
                self._fetched_at = self._clock()
            return list(self._cached)

    async def _fetch(self) -> List[Template]:
        found: List[Template] = []
        after: Optional[str] = None
        for _ in range(MAX_PAGES):
            page = await self._graph.list_templates(self._account, after)
            found.extend(approved_templates(page.get("data") or []))
            after = ((page.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (page.get("paging") or {}).get("next"):
                break
        return found

    async def find(self, name: Any, language: Any, values: Any) -> Template:
        """The approved template `name` in `language` taking exactly `values`, or TemplateProblem."""
        if not isinstance(name, str) or not isinstance(language, str):
            raise TemplateProblem("unknown_template", "name and language must be strings.")
        if not isinstance(values, list) or not all(isinstance(value, str) and value.strip() for value in values):
            raise TemplateProblem("invalid_parameters", "parameters must be a list of non-empty strings.")
        for template in await self.templates():
            if template.name == name and template.language == language:
                if template.parameters != len(values):
                    raise TemplateProblem(
                        "wrong_parameter_count", f"{name} takes {template.parameters} parameters, got {len(values)}."
                    )
                return template
        raise TemplateProblem("unknown_template", f"No approved template {name} in {language}.")

    async def named(self, name: str, language: Optional[str]) -> Optional[Template]:
        """The approved template `name`, in the customer's language (`en`, `pt-BR`) when it exists in several."""
        candidates = [template for template in await self.templates() if template.name == name]
        prefix = (language or "").split("-")[0].lower()
        preferred = [template for template in candidates if template.language.lower().startswith(prefix)] if prefix else []
        return (preferred or candidates or [None])[0]
