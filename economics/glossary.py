"""What each number of segment economics means, in the words a board reads (DEFINITIONS.md).

One text per column of `economics.unit.segment_economics`, worded for the revenue model and the
assumptions in force. The Unit economics table's column help, the Overview's tiles and the board pack's
"How these numbers are defined" read it, so they never say different things.
"""
from __future__ import annotations

from economics.assumptions import Assumptions
from economics.mrr import revenue_words

__all__ = ["metric_definitions", "movement_definitions", "snapshot_history", "SNAPSHOT_RETENTION",
           "BOARD_PACK_TERMS"]

# The board pack's table columns its tiles do not already define, with the names its table gives them.
BOARD_PACK_TERMS = {"logo_churn": "Monthly churn (by segment)", "cac": "CAC (by segment)",
                    "support_share_of_revenue": "Support % of revenue", "verdict": "Verdict"}


def metric_definitions(a: Assumptions, revenue_model: str = "subscription", symbol: str = "$") -> dict[str, str]:
    """Column name of segment_economics -> its definition in a sentence or two (DEFINITIONS.md "Churn",
    "Segments over time", "Value", "Cost to serve"), with the assumptions' values in it."""
    word, series = revenue_words(revenue_model)
    plural = "s" if a.churn_window_months != 1 else ""
    # The window starts no earlier than the first month the data shows churn in (economics.ledger.
    # first_churn_month): on order data, the first month starting inactivity_days after the data's first month.
    shorter = ("fewer when the data is shorter, or starts less than "
               f"{a.inactivity_days} days before them: nobody can churn sooner" if revenue_model == "transactional"
               else "fewer when the data is shorter")
    months = ("the churn window (the last complete month)" if a.churn_window_months == 1 else
              f"the churn window (the last {a.churn_window_months} complete months, {shorter}; the months "
              "used are named with the figures)")
    if revenue_model == "transactional":
        paying = "customers who bought in the last complete month (net revenue > 0)"
        lost = (f"customers lost (no purchase for {a.inactivity_days} days, dated at the last purchase + "
                f"{a.inactivity_days} days) / customers active at the start of each month")
    else:
        paying = "customers with MRR > 0 in the last complete month"
        lost = "customers lost (MRR falls to 0) / customers paying at the start of each month"
    at_start = "each customer counted in the segment it had at the start of each month"
    pcm = (f"of the segment's {paying}, over the last {a.churn_window_months} complete month{plural}, per "
           "customer-month from each one's first paid month (a trial's tickets and events before it count too; "
           "customers who left are not in it)")
    draining = f"net LTV:CAC < {a.draining_ltv_cac:g} or contribution per customer-month < 0"
    return {
        "segment": "The segment at the as-of date, by the scheme's thresholds.",
        "customers": "Customers in the segment at the as-of date (signed up before it).",
        "paying_customers": f"Paying customers: {paying}.",
        "share": "Share of all customers.",
        "mrr": f"{series} of the last complete month (a customer's negative month counts as 0).",
        "mrr_share": f"Share of all {word}.",
        "arpa": f"Average revenue per account: {word} / {paying} (ChartMogul).",
        "logo_churn": f"Monthly logo churn: {lost}, pooled over {months}; {at_start}.",
        "logo_churn_low": "Low end of the 95% Wilson interval of monthly churn (few customers or churn events "
                          "make the figure uncertain).",
        "logo_churn_high": "High end of the 95% Wilson interval of monthly churn.",
        "churn_events": f"Customers lost over {months}, each in the segment it had at the start of the month.",
        "churn_exposure": "Customer-months the churn rate divides by: customers "
                          + ("active" if revenue_model == "transactional" else "paying")
                          + " at the start of each month of the window, in the segment they had then.",
        "gross_revenue_churn": f"(Churned + contraction {word}) / {word} at the start of each month, pooled over "
                               f"{months}; {at_start}.",
        "net_revenue_churn": f"Gross revenue churn less expansion and reactivation {word} (ChartMogul).",
        "nrr": f"Net revenue retention: customers paying 12 complete months before the last complete month, their "
               f"{word} now / their {word} then. n/a with fewer than 13 complete months, or fewer than "
               f"{a.min_customers} such customers in the segment.",
        "grr": f"Gross revenue retention: as NRR, each customer's {word} capped at its earlier value (expansion "
               "does not count).",
        "expansion_rate": (f"Expansion {word} / {word} at the start of each month, pooled over {months}."
                           if revenue_model == "subscription" else
                           f"Spend growth: the rise of customers who bought more than the month before / {word} at "
                           f"the start of each month, pooled over {months}. Orders vary month to month, so it "
                           "reads high: compare segments with it, not with a subscription's expansion."),
        "gross_margin": "Revenue minus cost of goods (hosting, third-party fees), before support and onboarding: "
                        "an assumption.",
        "lifetime_months": f"Expected lifetime: 1 / monthly churn, at most {a.lifetime_cap_months} months.",
        "ltv": f"ARPA x gross margin x lifetime (1 / monthly churn, at most {a.lifetime_cap_months} months).",
        "ltv_capped": f"Whether the lifetime was capped at {a.lifetime_cap_months} months (churn 0 or very low).",
        "net_ltv": "Fully loaded LTV: (ARPA x gross margin - support and infra cost per customer-month) x lifetime "
                   "- onboarding cost. The verdict uses it.",
        "net_ltv_low": "Net LTV at the high end of the churn interval (95%): with few customers or churn events "
                       "the lifetime, and so net LTV, is uncertain.",
        "net_ltv_high": f"Net LTV at the low end of the churn interval (lifetime at most {a.lifetime_cap_months} "
                        "months).",
        "small_sample": f"Fewer than {a.min_customers} paying customers or {a.min_churn_events} churn events: churn "
                        "and net LTV are uncertain, read their 95% intervals.",
        "cac": "Sales and marketing spend attributed to the segment's new customers / those customers, by the "
               f"segment each had when acquired, over {months}. A channel's spend in a month is divided over "
               "its new customers of the month (a month without any carries its spend into the next two); customers "
               "without a channel are Unattributed. Needs spend data.",
        "blended_cac": f"All sales and marketing spend over {months} / all new paying customers in it.",
        "new_customers": f"Customers whose first paid month is in {months}, by the segment each had when acquired.",
        "unattributed_new_customers": "New customers without an acquisition channel: channel spend cannot reach "
                                      "them, so they have no CAC (never the blended one).",
        "net_ltv_cac": "Net LTV / CAC: how many times a customer's lifetime contribution repays what it cost to "
                       "win.",
        "payback_months": "CAC / (ARPA x gross margin - support and infra cost per customer-month): months of "
                          "contribution to earn back CAC.",
        "onboarding_cost": "One-off cost of a new customer (an assumption by value tier at acquisition: "
                           + ", ".join(f"{k} {symbol}{v:,.0f}" for k, v in a.onboarding_cost.items())
                           + "), averaged over the segment's customers who have paid (never-paid trials were "
                           "not onboarded).",
        "support_cost_pcm": f"Ticket minutes x {symbol}{a.support_cost_per_minute:,.2f} a minute (without minutes: "
                            f"the support team's monthly cost over the month's tickets), {pcm}.",
        "infra_cost_pcm": f"Events x {symbol}{a.infra_cost_per_event:,.4f}"
                          + (f" plus seats x {symbol}{a.infra_cost_per_seat:,.2f}" if a.prices_seats else "")
                          + f", {pcm}.",
        "support_share_of_revenue": "Support cost per customer-month / ARPA.",
        "tickets_pcm": f"Support tickets {pcm}.",
        "contribution_pcm": "ARPA x gross margin - support and infra cost per customer-month: what a customer "
                            "leaves each month before CAC.",
        "verdict": f"Healthy when net LTV:CAC >= {a.healthy_ltv_cac:g} and payback <= "
                   f"{a.healthy_payback_months:g} months; margin-draining when {draining}; marginal otherwise. "
                   "Without spend data it rests on contribution (and a negative net LTV).",
        "verdict_rule": "The verdict's rule, with the segment's numbers.",
        "note": "Why a figure is n/a or uncertain (few customers or churn events, needs spend data, a capped "
                "lifetime).",
    }


def movement_definitions(a: Assumptions, revenue_model: str = "subscription") -> dict[str, str]:
    """Column name of mrr_movements.csv (economics.mrr.MOVEMENT_COLUMNS) -> its definition (DEFINITIONS.md
    "Revenue" and "Churn"; the rules are in economics.mrr's docstring), in the revenue model's words."""
    word = revenue_words(revenue_model)[0]
    if revenue_model == "transactional":
        churned = (f"{word} of the month before of customers who bought then, nothing this month, and churned "
                   f"(no purchase for {a.inactivity_days} days, seen before the as-of date). The customer counts "
                   f"as churned later, in the month of its last purchase + {a.inactivity_days} days "
                   "(churned_customers)")
        paying = f"active customers (a purchase in the {a.inactivity_days} days before)"
    else:
        churned = f"{word} of the month before of customers who paid then and pay nothing this month"
        paying = "paying customers"
    return {
        "month": "The calendar month (YYYY-MM); complete months only.",
        "starting_mrr": f"{word} of the month before.",
        "new": f"{word} of customers paying for the first time.",
        "expansion": f"{word} gained from customers who paid more than the month before.",
        "contraction": f"{word} lost from customers who paid less than the month before, but something.",
        "churned": churned + ".",
        "reactivation": f"{word} of customers paying again after a time without.",
        "refunds": f"Refunds beyond a customer's revenue of the month (its net revenue below zero; that month's "
                   f"{word} counts as 0). A smaller refund lowers the month's {word} (contraction). Outside the "
                   "reconciliation of ending_mrr.",
        "ending_mrr": f"{word} of the month = starting + new + expansion + reactivation - contraction - churned.",
        "quick_ratio": "(new + expansion) / (contraction + churned); empty when nothing was lost.",
        "customers_start": f"{paying[0].upper() + paying[1:]} at the start of the month.",
        "customers_end": "customers_start + new_customers + reactivated_customers - churned_customers.",
        "new_customers": "Customers paying for the first time in the month.",
        "churned_customers": "Customers churned in the month (DEFINITIONS.md \"Churn\").",
        "reactivated_customers": "Customers paying again in the month after a time without.",
    }


def snapshot_history(taken: str) -> str:
    """What the history of a CRM snapshot (one row per customer: tenure, MRR, churned) is, `taken` the day it
    was exported, as text: the Cohorts and Transitions pages and report.json say it."""
    return (f"This is a CRM snapshot taken {taken}: the history is rebuilt from each customer's tenure (paying its "
            "current MRR since signup), and every churn falls in the snapshot's month.")


SNAPSHOT_RETENTION = ("Empty: a CRM snapshot holds nobody who left before its month, so 12-month retention "
                      "cannot be read from it.")
