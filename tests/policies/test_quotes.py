"""The quote check: normalisation, fragments split on elisions, and the closest passage of a miss.
Pure: no database."""

import pytest

from policies import quotes
from policies.quotes import find, normalise

LEGAL_PAGE = """\
# Legal and compliance

> Legal agreements, compliance certifications, and security information for Claude Code.

### Commercial agreements

Whether you're using the Claude API directly (1P) or accessing it through Amazon Bedrock or
Google Cloud's Agent Platform (3P), your existing commercial agreement will apply to Claude Code
usage, unless we've mutually agreed otherwise.

### Authentication and credential use

* **OAuth authentication** is intended exclusively for purchasers of Claude Free, Pro, Max,
  Team, and Enterprise subscription plans and is designed to support ordinary use of Claude Code
  and other native Anthropic applications.
* **Developers** building products or services that interact with Claude's capabilities,
  including those using the [Agent SDK](/docs/en/agent-sdk/overview), should use API key
  authentication through [Claude Console](https://platform.claude.com/) or a supported cloud
  provider.

This does not restrict how customers provision and manage their own API keys \u2014 provided the
resulting usage is billed to the key owners.
"""


# --- normalise ---------------------------------------------------------------------------------


def test_it_collapses_whitespace_within_a_paragraph():
    assert normalise("  Claude \t Code\n  is  subject\r\nto:  ") == "Claude Code is subject to:"


def test_it_keeps_one_line_break_where_a_paragraph_list_item_or_heading_ends():
    text = "## License\nYour use is subject to:\n\n* Commercial Terms\n* Consumer Terms\n"

    assert normalise(text) == "License\nYour use is subject to:\nCommercial Terms\nConsumer Terms"


def test_it_keeps_a_links_text_and_drops_its_target():
    text = (
        "see [Agent SDK](https://platform.claude.com/docs/en/agent-sdk/overview) and the "
        "**[Implementation Guide](https://trust.example/r?name=[a]-2025-(-1-p-api).pdf)** now"
    )

    assert normalise(text) == "see Agent SDK and the Implementation Guide now"


def test_it_drops_an_image_but_keeps_reference_links_text():
    assert normalise("Log in ![](https://cdn.example/x.png?sig=1) with [your account][1].") == (
        "Log in with your account."
    )


def test_it_drops_emphasis_bold_and_code_markers_but_not_underscores_inside_a_word():
    text = "**OAuth** is _only_ for `claude setup-token` and __CLAUDE_CODE_OAUTH_TOKEN__"

    assert normalise(text) == "OAuth is only for claude setup-token and CLAUDE_CODE_OAUTH_TOKEN"


def test_it_drops_heading_list_and_block_quote_markers_at_line_starts_only():
    text = "> ### Acceptable use\n1. Cloud provider credentials - for Team\n+ Subscription - Max"

    assert (
        normalise(text)
        == "Acceptable use\nCloud provider credentials - for Team\nSubscription - Max"
    )


def test_it_decodes_html_entities():
    assert normalise("Terms &amp; Conditions &quot;as is&quot; &#8212; &lt;key&gt;") == (
        'Terms & Conditions "as is" - <key>'
    )


def test_it_drops_backslash_escapes_so_escaped_markup_is_plain_text():
    assert normalise(r"Business Associate Agreements \(BAA\) for \[Team\]\(plans\)") == (
        "Business Associate Agreements (BAA) for [Team](plans)"
    )
    assert normalise("\\# not a heading, C:\\Users kept") == "# not a heading, C:\\Users kept"


def test_an_escaped_star_and_a_typed_star_normalise_alike():
    assert normalise(r"Premium seats\*) $200") == normalise("Premium seats*) $200")


def test_it_makes_typographic_quotes_straight():
    assert normalise("under \u201cData and privacy\u201d and Anthropic\u2019s \u2018BAA\u2019") == (
        "under \"Data and privacy\" and Anthropic's 'BAA'"
    )


def test_it_makes_every_dash_a_hyphen_and_a_typed_double_hyphen_one():
    assert normalise("service \u2014 including 2025\u20132026, a -- b") == (
        "service - including 2025-2026, a - b"
    )
    assert normalise("claude --allowedTools") == "claude --allowedTools"


def test_it_makes_non_breaking_spaces_plain_and_drops_zero_width_ones():
    assert normalise("Claude\u00a0Code in\u200bstalled") == "Claude Code installed"


def test_it_preserves_case():
    assert normalise("Team plans") != normalise("team plans")


def test_it_replaces_tags_with_a_space_and_drops_table_rules():
    text = (
        "<Note>\nStarting June 15\n</Note>\n\n"
        "| Feature | Covered |\n| ------- | :-----: |\n| Claude Code | Yes<br>with ZDR |"
    )

    assert normalise(text) == "Starting June 15\nFeature | Covered |\nClaude Code | Yes with ZDR |"


# --- find: found, fragments and word boundaries ------------------------------------------------


def test_it_finds_a_quote_written_without_the_pages_markup():
    quote = (
        "Developers building products or services that interact with Claude's capabilities, "
        "including those using the Agent SDK, should use API key authentication through "
        "Claude Console or a supported cloud provider."
    )

    match = find(quote, LEGAL_PAGE)

    assert match.found, match.reason
    assert (match.similarity, match.closest, match.diff) == (1.0, "", ())


def test_it_finds_the_fragments_of_an_elided_quote_in_order():
    quote = (
        "OAuth authentication is intended exclusively for purchasers \u2026 native Anthropic "
        "applications."
    )

    match = find(quote, LEGAL_PAGE)

    assert match.found
    assert len(match.spans) == 2
    assert match.spans[0][1] < match.spans[1][0]


def test_three_dots_mark_an_elision_too():
    assert find(
        "Whether you're using the Claude API ... will apply to Claude Code usage", LEGAL_PAGE
    ).found


def test_fragments_out_of_order_are_not_found():
    quote = "native Anthropic applications \u2026 OAuth authentication is intended exclusively"

    match = find(quote, LEGAL_PAGE)

    assert not match.found
    assert match.fragment == 2
    assert "out of order" in match.reason


def test_a_fragment_may_not_cut_a_word():
    assert find("the resulting usage is billed to the key owners.", LEGAL_PAGE).found
    assert not find("the resulting usage is billed to the key owner", LEGAL_PAGE).found
    assert not find("esulting usage is billed", LEGAL_PAGE).found


def test_a_quote_that_joins_two_list_items_without_an_elision_is_not_found():
    joined = "native Anthropic applications. Developers building products"

    match = find(joined, LEGAL_PAGE)

    assert not match.found
    assert "\u2026" in match.reason
    assert find(
        "native Anthropic applications. \u2026 Developers building products", LEGAL_PAGE
    ).found


def test_a_dash_typed_as_a_hyphen_matches_the_pages_em_dash():
    assert find("their own API keys - provided the resulting usage", LEGAL_PAGE).found


def test_an_empty_quote_is_not_found():
    for quote in ("", "   ", " \u2026 ", "..."):
        match = find(quote, LEGAL_PAGE)
        assert not match.found
        assert match.reason == "the quote is empty"


def test_the_spans_map_back_to_the_pages_own_characters():
    quote = "including those using the Agent SDK, should use API key authentication"
    page = quotes.prepare(LEGAL_PAGE)

    match = find(quote, page)
    start, end = page.original_span(*match.spans[0])

    assert page.text[start:end] == (
        "including those using the [Agent SDK](/docs/en/agent-sdk/overview), should use API key\n"
        "  authentication"
    )


def test_a_prepared_page_is_normalised_once_per_text():
    assert quotes.prepare(LEGAL_PAGE) is quotes.prepare(LEGAL_PAGE)
    assert quotes.prepare(LEGAL_PAGE).normalised == normalise(LEGAL_PAGE)


# --- find: the closest passage of a miss -------------------------------------------------------


def test_a_reworded_sentence_is_not_found_and_its_closest_passage_is_the_pages_sentence():
    reworded = (
        "Whether you're using Anthropic's API directly (1P) or accessing it through AWS Bedrock "
        "or Google Cloud's Agent Platform (3P), your existing commercial agreement will apply to "
        "Claude Code usage, unless we've mutually agreed otherwise."
    )

    match = find(reworded, LEGAL_PAGE)

    assert not match.found
    assert match.reason == "the quote is not in the page"
    assert normalise(match.closest) == normalise(
        "Whether you're using the Claude API directly (1P) or accessing it through Amazon Bedrock "
        "or Google Cloud's Agent Platform (3P), your existing commercial agreement will apply to "
        "Claude Code usage, unless we've mutually agreed otherwise."
    )
    assert 0.7 < match.similarity < 1
    changed = [(op, words) for op, words in match.diff if op != "equal"]
    assert changed == [
        ("delete", "Anthropic's"),
        ("insert", "the Claude"),
        ("delete", "AWS"),
        ("insert", "Amazon"),
    ]


def test_the_closest_passage_is_given_in_the_pages_own_characters():
    match = find("including those using the Agent SDK, should use an API key", LEGAL_PAGE)

    assert not match.found
    assert "[Agent SDK](/docs/en/agent-sdk/overview)" in match.closest
    assert match.closest in LEGAL_PAGE


def test_the_closest_passage_takes_in_the_markup_at_its_edges():
    match = find("OAuth authentication is meant exclusively for purchasers of Claude", LEGAL_PAGE)

    assert not match.found
    assert match.closest.startswith("**OAuth authentication** is intended exclusively")
    assert match.closest.endswith("purchasers of Claude")


def test_the_closest_passage_of_a_missing_fragment_is_searched_after_the_fragment_before_it():
    quote = (
        "OAuth authentication is intended \u2026 to support ordinary use of Claude Code and "
        "other Anthropic apps"
    )

    match = find(quote, LEGAL_PAGE)

    assert not match.found
    assert match.fragment == 2
    assert "fragment 2 of 2" in match.reason
    assert match.closest.startswith("to support ordinary use of Claude Code")
    assert [(op, words) for op, words in match.diff if op != "equal"] == [
        ("insert", "native"),
        ("delete", "apps"),
        ("insert", "applications."),
    ]


def test_a_quote_that_is_not_there_at_all_has_a_low_similarity():
    match = find(
        "Penguins may never be kept as pets in a lighthouse during the winter.", LEGAL_PAGE
    )

    assert not match.found
    assert match.similarity < 0.3


def test_a_miss_on_an_empty_page_has_no_closest_passage():
    match = find("Claude Code usage", "")

    assert (match.found, match.closest, match.similarity) == (False, "", 0.0)


@pytest.mark.parametrize(
    ("quote_words", "page_words", "expected"),
    [
        ("a b c", "a b c", [("equal", "a b c")]),
        ("a b c", "a x y c", [("equal", "a"), ("delete", "b"), ("insert", "x y"), ("equal", "c")]),
        ("a b c", "a c", [("equal", "a"), ("delete", "b"), ("equal", "c")]),
        ("a c", "a b c", [("equal", "a"), ("insert", "b"), ("equal", "c")]),
    ],
)
def test_the_word_diff_names_the_words_each_side_lacks(quote_words, page_words, expected):
    assert list(quotes.word_diff(quote_words.split(), page_words.split())) == expected
