"""The services file: checked like the other YAML, and matched to what customers type."""

import pytest

from supportdesk.scheduling.services import InvalidServices, load_services, match_service, parse_services, service_titled

SERVICES = load_services()


@pytest.mark.parametrize(
    "typed, service_id",
    [("cut and blow dry", "haircut"), ("Corte", "haircut"), ("corte e escova", "haircut"), ("HAIRCUT please", "haircut"),
     ("coloracao", "colour"), ("Coloração", "colour"), ("hair color", "colour"), ("escova", "blow_dry"),
     ("escova progressiva", "keratin"), ("childrens cut", "childrens_cut"), ("Children's cut", "childrens_cut"),
     ("sobrancelhas e cílios", "brows_lashes"), ("Highlights & balayage", "highlights"), ("mão e pé", "nails")],
)
def test_what_customers_type_names_one_service(typed, service_id):
    assert match_service(typed, SERVICES).id == service_id


@pytest.mark.parametrize("typed", ["haircut and colour", "10am", "tomorrow at 3", "amanhã", "something else", "",
                                   "scut", "facebook"])
def test_no_service_or_two_services_name_none(typed):
    assert match_service(typed, SERVICES) is None


def test_the_sample_salon_offers_its_services_in_both_languages():
    assert [(service.id, service.title("en"), service.title("pt-BR")) for service in SERVICES][:3] == [
        ("haircut", "Haircut", "Corte"), ("childrens_cut", "Children's cut", "Corte infantil"),
        ("blow_dry", "Blow-dry", "Escova"),
    ]
    assert len(SERVICES) == 10  # one WhatsApp list
    assert SERVICES[0].title(None) == "Haircut"


@pytest.mark.parametrize(
    "document, reason",
    [("services: x", "a list under services"),
     ("services:\n  - id: A\n    title: {en: a, pt-BR: b}", r"services\[0\]\.id"),
     ("services:\n  - id: a\n    title: {en: a}", "exactly the languages en, pt-BR"),
     ("services:\n  - id: a\n    title: {en: " + "x" * 25 + ", pt-BR: b}", "1-24 characters"),
     ("services:\n  - {id: a, title: {en: a, pt-BR: b}, words: [cut]}\n  - {id: b, title: {en: c, pt-BR: d}, words: [cut]}",
      "'cut' names both a and b"),
     ("services:\n  - {id: a, title: {en: a, pt-BR: b}}\n  - {id: a, title: {en: c, pt-BR: d}}", "ids used twice: a"),
     ("services:\n" + "".join(f"  - {{id: s{n}, title: {{en: e{n}, pt-BR: p{n}}}}}\n" for n in range(11)), "at most 10")],
)
def test_a_broken_file_is_refused_with_the_place(document, reason):
    with pytest.raises(InvalidServices, match=reason):
        parse_services(document)


def test_a_stored_title_in_either_language_names_its_service():
    assert [service_titled(title, SERVICES).id for title in ("Escova", "Blow-dry", "coloracao", "Corte")] == [
        "blow_dry", "blow_dry", "colour", "haircut",
    ]
    assert service_titled("a consultation", SERVICES) is None and service_titled(None, SERVICES) is None
