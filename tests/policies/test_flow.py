"""The question flow as SVG: well-formed XML naming every question, conditions on the edges, and
admin text escaped."""

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from policies import flow
from policies.engine import conjunction
from tests.policies.test_analysis import make_version
from tests.policies.test_seed import all_versions

SVG = "{http://www.w3.org/2000/svg}"


def texts(svg):
    root = ET.fromstring(svg.encode())
    return root, [element.text or "" for element in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("version", all_versions())
def test_every_seeded_version_draws_as_valid_svg_with_each_question(version):
    root, lines = texts(flow.flow_svg(version))

    assert root.tag == f"{SVG}svg"
    for question in version.questions:
        assert question.key in lines
    assert lines[0] == "Start" and lines[-1] == "Result"


def test_a_conditional_question_has_its_condition_on_the_edge_and_a_way_round():
    svg = flow.flow_svg(make_version())
    _, lines = texts(svg)

    assert "only if pet is dog" in lines
    assert lines.count("otherwise") == 1  # only `walks` is asked sometimes
    assert 'stroke-dasharray="4 3"' in svg


def test_conditions_read_as_words():
    version = make_version()
    either = (
        conjunction({"pet": ["cat", "dog"], "indoors": ["yes"]}),
        conjunction({"pet": ["fish"]}),
    )
    assert flow.condition_words(version, either) == (
        "pet is cat or dog and indoors is yes; or pet is fish"
    )
    assert flow.condition_words(version, ()) == "always"


def test_admin_text_is_escaped_and_characters_xml_cannot_hold_are_dropped():
    pet = make_version().questions[0]
    hostile = replace(pet, text='</text><script>alert("x")</script> & <b>bold</b>\x07')
    version = replace(make_version(), questions=(hostile, *make_version().questions[1:]))

    svg = flow.flow_svg(version, title="A <title> & more")
    root, lines = texts(svg)

    assert "<script" not in svg and "<b>" not in svg
    assert root.find(f"{SVG}title").text == "A <title> & more"
    assert not list(root.iter(f"{SVG}script"))
    assert any("<script>" in line for line in lines)  # shown as text, not markup


def test_long_texts_are_wrapped_and_cut():
    long = replace(make_version().questions[0], text="word " * 100)
    version = replace(make_version(), questions=(long, *make_version().questions[1:]))

    _, lines = texts(flow.flow_svg(version))

    wrapped = [line for line in lines if line.startswith("word")]
    assert len(wrapped) == flow.MAX_TEXT_LINES
    assert wrapped[-1].endswith("…")
    assert all(len(line) <= flow.BOX_TEXT_CHARS for line in lines)


def test_a_message_svg_is_valid_and_escaped():
    root, lines = texts(flow.message_svg("Broken <rule> & more"))
    assert lines == ["Broken <rule> & more"]
    assert root.tag == f"{SVG}svg"
