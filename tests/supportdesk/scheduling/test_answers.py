"""Yes, no, corrections and times in the customers' own words."""

import pytest

from supportdesk.scheduling.answers import InvalidAnswers, is_correction, mentions_time, parse_answers, yes_or_no


@pytest.mark.parametrize("text", ["sim", "Sim!", "pode ser", "isso", "ok", "bora", "yes", "yep", "sure", "yes please",
                                  "sim, obrigado", "👍", "Tá bom", "beleza"])
def test_yes_words(text):
    assert yes_or_no(text) is True


@pytest.mark.parametrize("text", ["não", "nao", "no", "nope", "não, obrigado", "👎", "melhor não"])
def test_no_words(text):
    assert yes_or_no(text) is False


@pytest.mark.parametrize("text", ["colour", "yes but friday", "tchau", "maybe", "", "sim não", "/affirm"])
def test_anything_else_is_neither(text):
    assert yes_or_no(text) is None


def test_corrections_and_times_are_recognised():
    assert is_correction("actually tuesday at 4pm") and is_correction("Na verdade quarta às 16h")
    assert not is_correction("tuesday at 4pm")
    assert all(mentions_time(text) for text in ("10am", "à tarde", "de manhã", "next monday morning", "sexta", "tmrw"))
    assert not any(mentions_time(text) for text in ("haircut", "corte", "cut and blow dry", "pode ser", "colour"))


@pytest.mark.parametrize(
    "document, reason",
    [("answers: []", "exactly the lists yes, no, courtesy, correction"),
     ("answers: {yes: [sim], no: [não], courtesy: [pf], correction: [ops]}", "exactly the lists"),
     ('answers: {"yes": [yes], "no": [não], courtesy: [pf], correction: [ops]}', "quote yes and no"),
     ('answers: {"yes": [ok, sim], "no": [OK], courtesy: [pf], correction: [ops]}', "both yes and no: ok"),
     ('answers: {"yes": [sim], "no": ["!"], courtesy: [pf], correction: [ops]}', "answers.no has an entry")],
)
def test_a_broken_file_is_refused_with_the_reason(document, reason):
    with pytest.raises(InvalidAnswers, match=reason):
        parse_answers(document)
