"""Custom rules run read-only on the features table alone: no files, no other tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.rules import Rule, RuleError, evaluate_rules, validate_expression

FEATS = pd.DataFrame({"customer_id": ["A", "B", "C"], "events_30d": [30.0, 5.0, np.nan],
                      "industry": ["Retail", "Software", None]})


def test_rules_label_the_first_match_in_row_order():
    rules = [Rule("Busy", "events_30d >= 20"), Rule("Software", "industry = 'Software'")]
    out = evaluate_rules(FEATS, rules, "Rest")
    assert [str(x) for x in out] == ["Busy", "Software", "Rest"]
    assert list(out.cat.categories) == ["Busy", "Software", "Rest"]


def test_rules_keep_the_features_index():
    feats = FEATS.set_index(pd.Index([10, 11, 12]))
    out = evaluate_rules(feats, [Rule("Busy", "events_30d >= 20")], "Rest")
    assert list(out.index) == [10, 11, 12]


@pytest.mark.parametrize("expr", [
    "read_csv('/etc/passwd') IS NOT NULL",
    "(SELECT count(*) FROM read_csv('/etc/passwd')) > 0",
    "events_30d IN (SELECT 1 FROM other_table)",
    "length(getenv('HOME')) > 0",
    "EXISTS (SELECT * FROM glob('/etc/*'))",
    "current_setting('threads') > 0",
])
def test_rules_that_reach_outside_the_features_table_are_refused(expr):
    with pytest.raises(RuleError, match="'Leak'"):
        validate_expression("Leak", expr)
    with pytest.raises(RuleError, match="'Leak'"):
        evaluate_rules(FEATS, [Rule("Leak", expr)], "Rest")


def test_file_access_is_switched_off_even_for_functions_not_on_the_deny_list():
    # Anything that slipped through parsing still cannot read a file: external access is off.
    with pytest.raises(RuleError, match="'Leak2'"):
        evaluate_rules(FEATS, [Rule("Leak2", "length(read_blob('/etc/hostname')::VARCHAR) > 0")], "Rest")


def test_unknown_column_message_names_rule_and_column_and_the_columns_a_rule_can_use():
    with pytest.raises(RuleError, match=r"'Whales'.*revenue_ltv") as exc:
        evaluate_rules(FEATS, [Rule("Whales", "revenue_ltv > 1000")], "Rest")
    # DuckDB's message lists no columns: the user is told which there are, and the closest to a typo
    assert str(exc.value).endswith("A rule can use: events_30d, industry.") and "Did you mean" not in str(exc.value)
    with pytest.raises(RuleError, match=r"there is no column 'event_30d'.*Did you mean events_30d\?"):
        evaluate_rules(FEATS, [Rule("Busy", "event_30d >= 20")], "Rest")
    # a condition cut short: said so, not as an error "near )" (a parenthesis the user never wrote)
    with pytest.raises(RuleError, match=r"not valid SQL \(syntax error: it ends before the condition does\)"):
        validate_expression("Short", "events_30d >")


def test_text_compared_with_a_number_is_said_in_words_and_expressions_read_as_code():
    """`plan > 5` showed DuckDB's "Binder Error: Cannot compare values of type VARCHAR and type
    INTEGER_LITERAL - an explicit cast is required"; the page's markdown showed ">=" as a "≥" that the
    suggested `mrr ≥ 1000` then failed on: expressions are code now."""
    with pytest.raises(RuleError) as exc:
        evaluate_rules(FEATS, [Rule("Typemix", "industry > 5")], "Rest")
    assert str(exc.value) == ("custom rule 'Typemix': the expression `industry > 5` compares text with a number "
                              "(industry is text). Compare a text column with a quoted value, e.g. `plan = 'Team'`, "
                              "and a number column with a number.")
    with pytest.raises(RuleError, match=r"the text 'many' is compared with a number column\. Compare a number column "
                                        r"with a number, e\.g\. `mrr >= 1000`"):
        evaluate_rules(FEATS, [Rule("Busy", "events_30d >= 'many'")], "Rest")
    with pytest.raises(RuleError, match=r"the expression `events_30d >= AND` is not valid SQL .*; write a condition "
                                        r"such as `mrr >= 1000 AND plan = 'Team'`\."):
        validate_expression("Cut", "events_30d >= AND")


def test_each_evaluation_sees_only_its_own_frame_even_on_a_reused_connection():
    evaluate_rules(FEATS, [Rule("Busy", "events_30d >= 20")], "Rest")
    # A later frame without events_30d: the earlier frame must not answer for it.
    with pytest.raises(RuleError, match=r"'Busy'.*events_30d"):
        evaluate_rules(FEATS[["customer_id", "industry"]], [Rule("Busy", "events_30d >= 20")], "Rest")
    with pytest.raises(RuleError, match="'Peek'"):
        evaluate_rules(FEATS, [Rule("Peek", "customer_id IN (SELECT customer_id FROM features)")], "Rest")


def test_rules_evaluated_from_several_threads_at_once_label_their_own_frames():
    from concurrent.futures import ThreadPoolExecutor

    def run(k: int) -> list[str]:
        feats = pd.DataFrame({"customer_id": [f"C{i}" for i in range(2000)],
                              "events_30d": np.arange(2000) % (k + 2)})
        out = evaluate_rules(feats, [Rule("Top", f"events_30d = {k + 1}")], "Rest")
        return [str(x) for x in out]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(8)))
    for k, labels in enumerate(results):
        assert labels == ["Top" if i % (k + 2) == k + 1 else "Rest" for i in range(2000)]
