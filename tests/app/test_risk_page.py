"""The Risk and opportunities page shows an honest backtest, the at-risk list and its levers."""
from __future__ import annotations

from tests.app.conftest import open_page


def _open_tab(at, label: str) -> None:
    at.session_state["risk_tab"] = label   # what a click on the tab does (AppTest cannot click a tab)
    at.run()
    assert not at.exception, (label, at.exception)


def test_risk_page_shows_the_backtest_and_a_threshold_moves_the_at_risk_count():
    at = open_page("pages/7_Risk_and_opportunities.py")
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["Backtest ROC AUC"]) >= 0.75
    assert 0.35 <= float(metrics["Shuffled-outcome AUC"]) <= 0.65

    def at_risk() -> int:
        line = next(m.value for m in at.markdown if "customers at risk" in m.value)
        return int(line.split("**")[1].split()[0].replace(",", ""))
    before = at_risk()
    at.slider(key="risk_threshold").set_value(0.6).run()
    assert not at.exception
    assert at_risk() < before
    # Only the open tab runs (the five tabs' models took about 5 s together on the sample company)
    assert not any("predicted_ltv" in d.value.columns for d in at.dataframe)
    assert "cluster_k" not in at.session_state

    # Every customer list names its customers and their segment (a team works a list by name, not by id);
    # each can be downloaded.
    tiers = {"Enterprise", "Mid-market", "SMB", "Self-serve", "Not paying"}
    lists = [d.value for d in at.dataframe if "customer_id" in d.value.columns]
    for label in ("Upsell", "Likely to convert"):
        _open_tab(at, label)
        lists += [d.value for d in at.dataframe if "customer_id" in d.value.columns]
    assert len(lists) == 3   # at risk, upsell, likely to convert
    for frame in lists:
        assert list(frame.columns[:3]) == ["customer_id", "name", "segment"], frame.columns
        assert frame["name"].notna().all() and set(frame["segment"]) <= tiers
    assert lists[0]["probability"].between(0, 100).all() and lists[0]["probability"].max() > 1   # percent
    assert {b.proto.label for b in at.get("download_button")} == {"Download the likely-to-convert list (CSV)"}

    # Predicted LTV: the All customers row has its figures (the blended ARPA and the blended formula LTV)
    _open_tab(at, "Predicted LTV")
    ltv = next(d.value for d in at.dataframe if "predicted_ltv" in d.value.columns).set_index("segment")
    assert ltv.loc["All customers", ["predicted_ltv", "ltv", "lifetime_months"]].notna().all()
    _open_tab(at, "Clusters")
    assert any("mean_churn_probability" in d.value.columns for d in at.dataframe)

    # Back on the churn tab, the threshold the user set is still there (Streamlit forgets the state of a
    # widget it did not draw: ui.page.kept keeps it).
    _open_tab(at, "Churn risk")
    assert at.slider(key="risk_threshold").value == 0.6 and at_risk() < before


def test_a_custom_rule_can_use_the_churn_probability():
    at = open_page("pages/2_Segments.py")
    at.selectbox(key="w_scheme").set_value("custom").run()
    toml = at.session_state["p_definition_toml"].replace(
        'name = "Unhappy veterans"', 'name = "Likely to churn"').replace(
        'expr = "health_score < 40 AND tenure_days > 90"', 'expr = "churn_probability >= 0.3"')
    at.session_state["p_definition_toml"] = toml
    at.run()
    assert not at.exception
    metrics = next(d.value for d in at.dataframe if "playbook" in d.value.columns)
    counts = dict(zip(metrics["segment"], metrics["customers"]))
    assert counts.get("Likely to churn", 0) > 0


def test_a_model_no_earlier_period_can_test_says_so_instead_of_no_model(crm_snapshot):
    # A CRM snapshot: every churner is dated at the snapshot, so the latest period trains a model and the
    # period before it (no churners) cannot test one.
    at = open_page("pages/7_Risk_and_opportunities.py")
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert "Untested: treat these scores as indicative" in warning and "no earlier period could check it" in warning
    assert "No churn model" not in warning
    assert any("customers at risk" in m.value for m in at.markdown)   # the scores are still shown


def test_the_upsell_download_holds_the_candidates_not_every_paying_customer():
    """"Download upsell candidates" held all 1,549 paying customers, 454 of them scoring 0 ("no strong sign of
    outgrowing the plan"): a sales team importing it got the whole base. The button says how many it holds."""
    import re

    at = open_page("pages/7_Risk_and_opportunities.py")
    _open_tab(at, "Upsell")
    label = next(b.proto.label for b in at.get("download_button") if "candidates" in b.proto.label)
    count = re.fullmatch(r"Download the ([\d,]+) candidates with a score above 0 \(CSV\)", label)
    assert count, label
    assert 50 <= int(count.group(1).replace(",", "")) < 1549
    shown = next(d.value for d in at.dataframe if "score" in d.value.columns)
    assert (shown["score"] > 0).all()   # the top 50 on screen are among them
