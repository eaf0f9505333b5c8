"""Template listing (approved only, every page, cached) and the template message, against the fake Graph API."""

import json

import pytest

from supportdesk.whatsapp.graph_api import GraphApiClient
from supportdesk.whatsapp.templates import Template, TemplateCatalog, TemplateProblem, approved_templates
from tests.fakes.fake_graph_api import FAKE_ACCESS_TOKEN, FakeGraphApi
from tests.fixture_files import PHONE_NUMBER_ID, fixture_bytes

ACCOUNT = "102290129340398"
FOLLOW_UP = Template(
    "appointment_follow_up", "pt_BR", "UTILITY",
    "Olá {{1}}, sobre o seu horário de {{2}}: responda esta mensagem para falar com a nossa equipe.", 2,
)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake():
    with FakeGraphApi() as server:
        yield server


@pytest.fixture
async def graph(fake):
    client = GraphApiClient(fake.url + "/v24.0", PHONE_NUMBER_ID, FAKE_ACCESS_TOKEN, timeout_seconds=2.0)
    yield client
    await client.close()


def test_only_approved_templates_are_kept_with_their_placeholder_count():
    data = json.loads(fixture_bytes("message_templates_list_response.json"))["data"]
    found = approved_templates(data)
    assert [(t.name, t.language, t.category, t.parameters) for t in found] == [
        ("appointment_follow_up", "pt_BR", "UTILITY", 2),
        ("appointment_reminder", "en_US", "UTILITY", 2),
    ]
    assert found[0] == FOLLOW_UP


async def test_every_page_is_listed_and_the_list_is_cached_until_it_expires(fake, graph):
    fake.templates = fake.templates * 2  # six templates, three pages of two
    clock = Clock()
    catalog = TemplateCatalog(graph, ACCOUNT, cache_seconds=300, clock=clock)
    assert [t.name for t in await catalog.templates()] == ["appointment_follow_up", "appointment_reminder"] * 2
    listings = fake.template_listings()
    assert [r.path for r in listings] == [f"/v24.0/{ACCOUNT}/message_templates"] * 3
    assert [r.query.get("after") for r in listings] == [None, "c2", "c4"]
    clock.now += 299
    await catalog.templates()
    assert len(fake.template_listings()) == 3
    clock.now += 1
    await catalog.templates()
    assert len(fake.template_listings()) == 6


async def test_no_business_account_means_no_templates_and_no_request(fake, graph):
    assert await TemplateCatalog(graph, None).templates() == []
    assert await TemplateCatalog(None, ACCOUNT).templates() == []
    assert fake.template_listings() == []


async def test_find_checks_name_language_and_parameter_count(graph):
    catalog = TemplateCatalog(graph, ACCOUNT)
    assert await catalog.find("appointment_follow_up", "pt_BR", ["João", "26/11 às 09:00"]) == FOLLOW_UP
    cases = [
        (("black_friday_offer", "en_US", []), "unknown_template"),
        (("appointment_follow_up", "en_US", ["a", "b"]), "unknown_template"),
        (("appointment_follow_up", "pt_BR", ["João"]), "wrong_parameter_count"),
        (("appointment_follow_up", "pt_BR", ["João", " "]), "invalid_parameters"),
        ((None, "pt_BR", []), "unknown_template"),
    ]
    for arguments, code in cases:
        with pytest.raises(TemplateProblem) as problem:
            await catalog.find(*arguments)
        assert problem.value.code == code


async def test_the_template_message_is_the_documented_send_body(fake, graph):
    values = ["João", "26/11 às 09:00"]
    await graph.send_message("5511987654321", FOLLOW_UP.message(values))
    assert fake.sent_messages() == [json.loads(fixture_bytes("send_template_request.json"))]
    assert FOLLOW_UP.render(values) == (
        "Olá João, sobre o seu horário de 26/11 às 09:00: responda esta mensagem para falar com a nossa equipe."
    )
