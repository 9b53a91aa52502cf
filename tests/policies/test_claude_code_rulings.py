"""The seeded claude-code policy against the rulings of shared/policy/claude-code-spec.md.

Each test states one ruling and checks it on every answer set the ruling covers, across versions,
rather than on a single example."""

import pytest

from policies import analysis, engine
from tests.policies.test_seed import seeded_versions

V1, V2, V3, V4 = "2025-08-28", "2026-02-18", "2026-04-04", "2026-08-22"
VERSIONS = (V1, V2, V3, V4)
CONSUMER = {"free", "pro", "max"}
ORG_PLANS = {"team", "enterprise"}
SUBSCRIPTIONS = CONSUMER | ORG_PLANS
KEYED = {"console", "bedrock", "vertex", "foundry"}
SUBSCRIPTION_AUTH = {"claude_login", "setup_token"}


def version(version_id):
    return seeded_versions()["claude-code", version_id]


def cases(version_id, **fixed):
    """Every reachable complete answer set of a version whose answers match `fixed` (a value may
    be a set of choices)."""
    v = version(version_id)
    for answers in analysis.reachable_answer_sets(v):
        if all(
            answers.get(k) in (want if isinstance(want, set) else {want})
            for k, want in fixed.items()
        ):
            yield answers, engine.evaluate(v, answers)


def keys(items):
    return {item.key for item in items}


WORKED_EXAMPLES = [
    # (answers, as_of version, verdict, must include {table: ids}, must not include {table: ids})
    (
        {"plan": "pro", "tool": "claude_code", "audience": "just_me", "phi": "no"},
        V4,
        "allowed",
        {
            "auth_methods": {"claude_login"},
            "terms": {"consumer_terms", "usage_policy"},
            "steps": {"ordinary_individual_use"},
        },
        {"terms": {"commercial_terms"}},
    ),
    (
        {"plan": "max", "tool": "third_party_tool", "audience": "just_me", "phi": "no"},
        V4,
        "not_allowed",
        {"auth_methods": {"api_key"}, "steps": {"use_usage_credits_if_offered"}},
        {"auth_methods": {"claude_login", "setup_token"}},
    ),
    (
        {
            "plan": "max",
            "tool": "agent_sdk",
            "audience": "just_me",
            "run_pattern": "occasional",
            "phi": "no",
        },
        V2,
        "not_allowed",
        {"auth_methods": {"api_key"}},
        {"auth_methods": {"claude_login"}},
    ),
    (
        {
            "plan": "console",
            "tool": "hosted_claude_code",
            "end_user_credentials": "users_api_keys",
            "binary": "unmodified",
            "phi": "no",
        },
        V4,
        "allowed_with_conditions",
        {
            "terms": {"commercial_terms", "trademark_guidelines"},
            "steps": {"unmodified_binary", "no_paying_for_end_users", "naming_and_logo_rules"},
        },
        {},
    ),
    (
        {
            "plan": "enterprise",
            "tool": "claude_code",
            "audience": "my_organization",
            "phi": "yes",
            "baa": "yes",
            "zdr": "yes",
            "surface": "local",
        },
        V4,
        "allowed_with_conditions",
        {"steps": {"restrict_login_to_org", "no_phi_via_integrations"}},
        {"steps": {"keep_phi_out"}},
    ),
    (
        {"plan": "free", "tool": "claude_code", "audience": "just_me", "phi": "no"},
        V4,
        "not_allowed",
        {},
        {"auth_methods": {"claude_login"}},
    ),
]


@pytest.mark.parametrize(
    ("answers", "version_id", "verdict", "includes", "excludes"), WORKED_EXAMPLES
)
def test_the_worked_examples_of_the_spec(answers, version_id, verdict, includes, excludes):
    decision = engine.evaluate(version(version_id), answers)
    assert decision.verdict.key == verdict
    for table, ids in includes.items():
        assert ids <= keys(decision.lists[table]), table
    for table, ids in excludes.items():
        assert not ids & keys(decision.lists[table]), table


@pytest.mark.parametrize("version_id", VERSIONS)
def test_terms_of_the_plan_and_the_usage_policy_are_always_listed(version_id):
    expected = {
        "free": "consumer_terms",
        "pro": "consumer_terms",
        "max": "consumer_terms",
        "team": "commercial_terms",
        "enterprise": "commercial_terms",
        "console": "commercial_terms",
        "bedrock": "existing_commercial_agreement",
        "vertex": "existing_commercial_agreement",
        "foundry": "existing_commercial_agreement",
    }
    for answers, decision in cases(version_id):
        assert {expected[answers["plan"]], "usage_policy"} <= keys(decision.terms)
        assert "follow_usage_policy" in keys(decision.steps)


def test_the_first_version_cites_the_usage_policy_itself():
    for _, decision in cases(V1, plan="pro", tool="claude_code", phi="no"):
        usage = next(t for t in decision.terms if t.key == "usage_policy")
        assert "https://www.anthropic.com/legal/aup" in {c.url for c in usage.clauses}


@pytest.mark.parametrize("version_id", VERSIONS)
def test_the_free_plan_never_gets_subscription_sign_in(version_id):
    for answers, decision in cases(version_id, plan="free"):
        assert not SUBSCRIPTION_AUTH & keys(decision.auth_methods), answers
    for answers, decision in cases(
        version_id, plan="free", tool={"claude_code", "claude_code_automation"}
    ):
        assert decision.verdict.key == "not_allowed", answers


@pytest.mark.parametrize(
    ("plans", "expected"),
    [
        (CONSUMER, {V1: "unclear", V2: "not_allowed", V3: "not_allowed", V4: "not_allowed"}),
        (ORG_PLANS, {V1: "unclear", V2: "unclear", V3: "not_allowed", V4: "not_allowed"}),
    ],
)
def test_third_party_tools_on_subscriptions(plans, expected):
    for version_id, verdict in expected.items():
        for answers, decision in cases(
            version_id, plan=plans, tool="third_party_tool", audience="just_me", phi="no"
        ):
            assert decision.verdict.key == verdict, (version_id, answers)
            assert "api_key" in keys(decision.auth_methods)
            assert not SUBSCRIPTION_AUTH & keys(decision.auth_methods)
            credits = "use_usage_credits_if_offered" in keys(decision.steps)
            assert credits == (version_id in (V3, V4) and answers["plan"] != "free")


@pytest.mark.parametrize("version_id", VERSIONS)
def test_third_party_tools_on_a_key_are_allowed(version_id):
    for answers, decision in cases(
        version_id,
        plan=KEYED,
        tool="third_party_tool",
        audience={"just_me", "my_organization"},
        phi="no",
    ):
        assert decision.verdict.key == "allowed", answers


@pytest.mark.parametrize("version_id", VERSIONS)
def test_subscriptions_do_not_include_the_api(version_id):
    for answers, decision in cases(version_id, plan=SUBSCRIPTIONS, tool="own_app"):
        assert decision.verdict.key == "not_allowed", answers
        assert "api_key" in keys(decision.auth_methods)
        assert not SUBSCRIPTION_AUTH & keys(decision.auth_methods)


@pytest.mark.parametrize(
    ("version_id", "plans", "occasional", "always_on"),
    [
        (V1, {"pro", "max", "team", "enterprise"}, "allowed", "unclear"),
        (V2, {"pro", "max"}, "unclear", "unclear"),
        (V2, ORG_PLANS, "allowed", "unclear"),
        (V3, {"pro", "max", "team", "enterprise"}, "allowed", "unclear"),
        (V4, {"pro", "max", "team", "enterprise"}, "allowed", "unclear"),
    ],
)
def test_claude_code_automation_on_subscriptions(version_id, plans, occasional, always_on):
    for pattern, verdict in (("occasional", occasional), ("always_on", always_on)):
        for answers, decision in cases(
            version_id,
            plan=plans,
            tool="claude_code_automation",
            audience="just_me",
            run_pattern=pattern,
            phi="no",
        ):
            assert decision.verdict.key == verdict, answers
            auth = keys(decision.auth_methods)
            assert auth == ({"setup_token"} if verdict == "allowed" else {"api_key"}), answers
            if verdict == "allowed":
                assert "ordinary_individual_use" in keys(decision.steps)


@pytest.mark.parametrize(
    ("version_id", "expected"),
    [
        (V1, {p: "unclear" for p in SUBSCRIPTIONS}),
        (
            V2,
            {
                "free": "not_allowed",
                "pro": "not_allowed",
                "max": "not_allowed",
                "team": "unclear",
                "enterprise": "unclear",
            },
        ),
        (V3, {p: "unclear" for p in SUBSCRIPTIONS}),
        (V4, {p: "unclear" for p in SUBSCRIPTIONS}),
    ],
)
def test_personal_agent_sdk_use_on_subscriptions(version_id, expected):
    for answers, decision in cases(
        version_id, plan=SUBSCRIPTIONS, tool="agent_sdk", audience="just_me", phi="no"
    ):
        assert decision.verdict.key == expected[answers["plan"]], answers
        assert keys(decision.auth_methods) == {"api_key"}
    for answers, decision in cases(
        version_id, plan=KEYED, tool="agent_sdk", audience="just_me", phi="no"
    ):
        assert decision.verdict.key == "allowed", answers


@pytest.mark.parametrize("version_id", (V2, V3, V4))
def test_agent_sdk_programs_for_others_on_subscriptions_are_not_allowed(version_id):
    for answers, decision in cases(
        version_id, plan=SUBSCRIPTIONS, tool="agent_sdk", audience={"my_organization", "customers"}
    ):
        assert decision.verdict.key == "not_allowed", answers
        assert "api_key" in keys(decision.auth_methods)
        assert not SUBSCRIPTION_AUTH & keys(decision.auth_methods)


@pytest.mark.parametrize("version_id", VERSIONS)
def test_sharing_a_consumer_plan_is_not_allowed(version_id):
    for answers, decision in cases(
        version_id, plan=CONSUMER, audience={"my_organization", "customers"}
    ):
        assert decision.verdict.key == "not_allowed", answers
        assert "one_person_per_subscription" in keys(decision.steps)


def test_an_organizations_own_key_may_serve_its_staff():
    for version_id in VERSIONS:
        for _answers, decision in cases(
            version_id, plan=KEYED, tool="claude_code", audience="my_organization", phi="no"
        ):
            assert decision.verdict.key == "allowed"
            assert ("bill_usage_to_key_owner" in keys(decision.steps)) == (version_id == V4)
    for _answers, decision in cases(
        V4, plan=ORG_PLANS, tool="claude_code", audience="my_organization", phi="no"
    ):
        assert decision.verdict.key == "allowed"
        assert "own_seat_per_person" in keys(decision.steps)


@pytest.mark.parametrize("version_id", VERSIONS)
def test_products_for_customers_on_a_key(version_id):
    base = {
        "plan": KEYED,
        "tool": {"own_app", "agent_sdk", "third_party_tool"},
        "audience": "customers",
        "phi": "no",
    }
    for answers, decision in cases(version_id, **base, end_user_credentials="our_account"):
        assert decision.verdict.key == "allowed", answers
    for answers, decision in cases(version_id, **base, end_user_credentials="users_api_keys"):
        assert decision.verdict.key == "allowed_with_conditions", answers
        assert "end_users_bring_own_credentials" in keys(decision.steps)
    for answers, decision in cases(
        version_id, **base, end_user_credentials="users_claude_accounts"
    ):
        if version_id == V1:
            assert decision.verdict.key == "unclear", answers
        else:
            assert decision.verdict.key == "not_allowed", answers
            assert "no_claude_login_in_your_product" in keys(decision.steps)


def hosting_cases(version_id, **fixed):
    yield from cases(version_id, tool="hosted_claude_code", **fixed)
    yield from cases(
        version_id, tool={"claude_code", "claude_code_automation"}, audience="customers", **fixed
    )


@pytest.mark.parametrize("version_id", VERSIONS)
def test_hosting_paid_by_a_subscription_is_never_allowed(version_id):
    for answers, decision in hosting_cases(
        version_id, plan=SUBSCRIPTIONS, end_user_credentials="our_account"
    ):
        assert decision.verdict.key == "not_allowed", answers


@pytest.mark.parametrize("version_id", (V1, V2, V3))
def test_hosting_is_unclear_before_the_hosting_section(version_id):
    for answers, decision in hosting_cases(version_id, plan=KEYED | ORG_PLANS, phi="no"):
        if answers["end_user_credentials"] == "our_account" and answers["plan"] in ORG_PLANS:
            continue
        assert decision.verdict.key == "unclear", answers
        assert "end_user_credentials" in keys(decision.auth_methods)


def test_hosting_conditions_decide_from_the_hosting_section():
    for answers, decision in hosting_cases(V4, phi="no"):
        verdict = decision.verdict.key
        if answers["plan"] in CONSUMER:
            assert verdict == "not_allowed", answers
            if answers["tool"] == "hosted_claude_code":
                assert "accept_commercial_terms" in keys(decision.steps)
        elif (
            answers["end_user_credentials"] == "our_account" or answers.get("binary") == "modified"
        ):
            assert verdict == "not_allowed", answers
        else:
            assert verdict == "allowed_with_conditions", answers
            assert {"commercial_terms", "trademark_guidelines"} <= keys(decision.terms)
            assert {
                "unmodified_binary",
                "no_paying_for_end_users",
                "naming_and_logo_rules",
                "end_users_bring_own_credentials",
            } <= keys(decision.steps)


@pytest.mark.parametrize("version_id", VERSIONS)
def test_phi_needs_a_plan_that_can_have_a_baa(version_id):
    for answers, decision in cases(version_id, plan=CONSUMER | {"team"}, phi={"yes", "not_sure"}):
        assert decision.verdict.key == "not_allowed", answers
        assert "keep_phi_out" in keys(decision.steps)
    for _answers, decision in cases(version_id, phi="not_sure"):
        assert "confirm_phi_status" in keys(decision.steps)


@pytest.mark.parametrize("version_id", VERSIONS)
def test_phi_through_a_cloud_provider_depends_on_its_baa(version_id):
    for _answers, decision in cases(version_id, plan={"bedrock", "vertex", "foundry"}, phi="yes"):
        assert "cloud_provider_baa" in keys(decision.steps)
        assert decision.verdict.key in {"allowed_with_conditions", "not_allowed", "unclear"}
    for _answers, decision in cases(
        version_id,
        plan={"bedrock", "vertex", "foundry"},
        tool="claude_code",
        audience="just_me",
        phi="yes",
    ):
        assert decision.verdict.key == "allowed_with_conditions"


@pytest.mark.parametrize("version_id", VERSIONS)
def test_claude_code_with_phi_needs_baa_zdr_and_local_surfaces(version_id):
    for answers, decision in cases(
        version_id,
        plan={"enterprise", "console"},
        tool="claude_code",
        audience={"just_me", "my_organization"},
        phi={"yes", "not_sure"},
    ):
        steps = keys(decision.steps)
        missing = {"sign_baa"} if answers["baa"] == "no" else set()
        missing |= {"enable_zdr"} if answers["zdr"] != "yes" else set()
        missing |= {"local_surfaces_only"} if answers["surface"] == "cloud" else set()
        assert missing <= steps, answers
        assert not {"sign_baa", "enable_zdr", "local_surfaces_only"} - missing & steps, answers
        assert {"restrict_login_to_org", "no_phi_via_integrations"} <= steps
        assert "keep_phi_out" not in steps
        assert decision.verdict.key == ("not_allowed" if missing else "allowed_with_conditions")
        if answers["plan"] == "console":
            assert "api_key" in keys(decision.auth_methods)


@pytest.mark.parametrize("version_id", VERSIONS)
def test_own_app_on_console_with_phi_needs_only_the_baa(version_id):
    for answers, decision in cases(
        version_id, plan="console", tool="own_app", audience="just_me", phi="yes"
    ):
        assert "zdr" not in answers
        if answers["baa"] == "yes":
            assert decision.verdict.key == "allowed_with_conditions"
            assert "no_phi_via_integrations" in keys(decision.steps)
        else:
            assert decision.verdict.key == "not_allowed"
            assert "sign_baa" in keys(decision.steps)


def test_foundry_terms_explain_that_the_sentence_names_only_amazon_and_google():
    for _, decision in cases(V4, plan="foundry", tool="claude_code", audience="just_me", phi="no"):
        item = next(t for t in decision.terms if t.key == "existing_commercial_agreement")
        assert any("Foundry" in reason for reason in item.reasons)
