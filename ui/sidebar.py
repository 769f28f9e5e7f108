"""The sidebar every page draws: menu, workspace status, as-of date, scheme and definition.

Its choices persist across pages (session state) and are mirrored in the URL's query parameters, so a
link sent to a colleague reproduces the view: `/Segments?scheme=behavior&as_of=2026-11-01&definition=Q3`.
"""
from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import streamlit as st

from economics.ledger import add_months, last_complete_month
from economics.mrr import revenue_words
from ui import cached
from ui.format import plural

__all__ = ["View", "sidebar", "PAGES", "encode_definition", "decode_definition"]

PAGES: tuple[tuple[str, str, str], ...] = (
    ("app.py", "Overview", ":material/space_dashboard:"),
    ("pages/1_Data.py", "Data", ":material/upload_file:"),
    ("pages/2_Segments.py", "Segments", ":material/donut_small:"),
    ("pages/3_Cohorts.py", "Cohorts", ":material/grid_on:"),
    ("pages/4_Unit_economics.py", "Unit economics", ":material/payments:"),
    ("pages/5_Cost_to_serve.py", "Cost to serve", ":material/support_agent:"),
    ("pages/6_Transitions.py", "Transitions", ":material/swap_horiz:"),
    ("pages/7_Risk_and_opportunities.py", "Risk and opportunities", ":material/radar:"),
)

# persistent session keys (never widget keys, which Streamlit drops when a page changes)
_P = {"as_of": "p_as_of", "compare_to": "p_compare_to", "scheme": "p_scheme",
      "definition": "p_definition_toml", "definition_name": "p_definition_name"}


@dataclass(frozen=True)
class View:
    """What the sidebar decided for this run; pages read it and nothing else from the sidebar."""

    as_of: date
    compare_to: date
    scheme: str
    definition_toml: str
    definition_name: str
    version: str
    meta: dict

    @property
    def currency(self) -> str:
        return self.meta.get("currency", "")

    @property
    def revenue_model(self) -> str:
        return self.meta.get("revenue_model", "subscription")

    @property
    def revenue_word(self) -> str:
        """"MRR", or "revenue" for transactional revenue (DEFINITIONS.md: never called MRR)."""
        return revenue_words(self.revenue_model)[0]

    @property
    def revenue_series(self) -> str:
        """The monthly series' name, capitalised: "MRR" or "Monthly revenue"."""
        return revenue_words(self.revenue_model)[1]

    @property
    def revenue_header(self) -> str:
        """A money column's header: "MRR (USD)", "Monthly revenue" (no known currency)."""
        return self.revenue_series + (f" ({self.currency})" if self.currency else "")

    @property
    def revenue_at_date(self) -> str:
        """What a customer's monthly revenue at a date (its features' mrr) is called: MRR, or on order data
        the 12-month average (the value tier's basis; not the last complete month's revenue that segment
        totals show)."""
        return "Avg monthly revenue (12 mo)" if self.revenue_model == "transactional" else self.revenue_series

    @property
    def customer_revenue_header(self) -> str:
        """revenue_at_date as a money column's header, with the currency when known."""
        return self.revenue_at_date + (f" ({self.currency})" if self.currency else "")

    @property
    def summed_revenue(self) -> str:
        """revenue_at_date summed over a group: "MRR", as a segment's MRR reads; on order data, whose customers'
        figure is their 12-month average, "..., summed" (it read as one customer's: 93,010 for 56 customers)."""
        return self.revenue_at_date + (", summed" if self.revenue_model == "transactional" else "")

    @property
    def summed_revenue_header(self) -> str:
        """summed_revenue as a money column's header, with the currency when known."""
        return self.summed_revenue + (f" ({self.currency})" if self.currency else "")

    def churn_attribution(self, inactivity_days: int) -> str:
        """How churn is counted by segment (DEFINITIONS.md "Segments over time"), in a sentence; on order data
        with what follows from the inactivity rule: by the month a customer counts as churned it has not bought
        for weeks, so segments of recent inactivity carry most of the churn."""
        said = "each customer counted in the segment it had at the start of each month."
        if self.revenue_model != "transactional":
            return said
        return (said + f" On order data a customer counts as churned {plural(inactivity_days, 'day')} after its last "
                "purchase: by then it has stopped buying for weeks, so segments of recent inactivity (Dormant, "
                "low recency) carry most of the churn and active segments read close to none.")

    @property
    def is_sample(self) -> bool:
        return self.meta.get("source") == "sample"

    @property
    def symbol(self) -> str:
        """The currency symbol ("" when the data has no known currency)."""
        from ui.format import currency_symbol

        return currency_symbol(self.currency)

    @property
    def definition(self):
        return cached.definition(self.definition_toml)

    @property
    def schemes(self) -> dict[str, str]:
        """Scheme key -> label, for the schemes this data and definition support."""
        return cached.available_schemes(self.definition_toml)

    @property
    def scheme_name(self) -> str:
        return self.schemes.get(self.scheme, self.scheme)


def encode_definition(toml_text: str) -> str:
    return base64.urlsafe_b64encode(zlib.compress(toml_text.encode(), 9)).decode().rstrip("=")


def decode_definition(token: str) -> str:
    padded = token + "=" * (-len(token) % 4)
    return zlib.decompress(base64.urlsafe_b64decode(padded.encode())).decode()


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _read_url_once() -> None:
    ss = st.session_state
    if ss.get("p_url_read"):
        return
    ss["p_url_read"] = True
    q = st.query_params
    if d := _parse_date(q.get("as_of")):
        ss[_P["as_of"]] = d
    if d := _parse_date(q.get("compare_to")):
        ss[_P["compare_to"]] = d
    if q.get("scheme"):
        ss[_P["scheme"]] = q.get("scheme")
    name, token = q.get("definition"), q.get("def")
    if token:
        try:
            text = decode_definition(token)
        except (ValueError, zlib.error):
            st.toast("The link's segment definition could not be read; using the default.")
            return
        _use_linked(text, name or "Shared link")
    elif name and name != "Default":
        saved = cached.saved_definitions()
        if name in saved:
            _use_linked(saved[name], name)
        else:
            st.toast(f"No saved definition named {name!r}; using the default.")


def _use_linked(text: str, name: str) -> None:
    """A link's definition becomes the session's, once it validates (a link cut short by a mail client, or
    made by an older version whose rules are now refused, raised on every page); its custom rules are
    tried on the data once the dates are known (_check_linked)."""
    from segmentation.definition import DefinitionError

    try:
        cached.definition(text)
    except DefinitionError as exc:
        st.toast(f"The link's segment definition could not be used ({exc}); using the default.")
        return
    from ui.definition_editor import honest_name

    ss = st.session_state
    ss[_P["definition"]], ss[_P["definition_name"]] = text, honest_name(name, text, cached.default_definition_toml())
    ss["p_definition_linked"] = True


def _check_linked(version: str, as_of: date) -> None:
    """A link's custom rules that cannot run on this data (a column it lacks): said, and the default used."""
    ss = st.session_state
    if ss.pop("p_definition_linked", False) and (
            problem := cached.rule_problem(version, as_of, ss[_P["definition"]])):
        st.toast(f"The link's segment definition could not be used ({problem}); using the default.")
        ss[_P["definition"]], ss[_P["definition_name"]] = cached.default_definition_toml(), "Default"


def _widget(kind, label: str, name: str, **kwargs):
    """A sidebar widget whose value lives in a persistent key, so it survives page changes. The widget's own
    key is set from it on every run: on another page the widget is another widget to Streamlit, which
    started it at its default (Segment by fell back to Value tier on the next page); the user's change
    reaches the persistent key first, through on_change."""
    ss = st.session_state
    wkey, pkey = f"w_{name}", _P[name]
    ss[wkey] = ss[pkey]
    value = kind(label, key=wkey, on_change=_keep, args=(wkey, pkey), **kwargs)
    ss[pkey] = value
    return value


def _keep(wkey: str, pkey: str) -> None:
    st.session_state[pkey] = st.session_state[wkey]


def _menu() -> None:
    root = Path(__file__).resolve().parent.parent
    for path, label, icon in PAGES:
        if (root / path).exists():
            st.sidebar.page_link(path, label=label, icon=icon)


def sidebar(needs_data: bool = True) -> View | None:
    """Draw the shared sidebar. Returns None when the workspace holds no data (and, on pages that need
    data, says where to load it)."""
    cached.ensure_started()
    _read_url_once()
    _menu()
    status = cached.workspace_status()
    if not status["tables"]:
        st.sidebar.warning("No data loaded.")
        if not needs_data:
            return None
        st.info("The workspace is empty. Open **Data** to upload your exports or load the sample company.")
        st.page_link("pages/1_Data.py", label="Go to Data", icon=":material/upload_file:")
        return None

    meta = status["meta"]
    ss = st.session_state
    if meta.get("source") == "sample":
        where = "below" if not needs_data else "on the **Data** page"
        st.info(
            "**Sample company** — you are looking at Northwind Analytics, a fictional SaaS company. "
            f"Load your own exports or clear the workspace {where}.",
            icon=":material/science:",
        )

    max_date = date.fromisoformat(meta["max_date"])
    min_date = date.fromisoformat(meta["min_date"])
    default_as_of = max_date + timedelta(days=1)
    # The dates follow the data: after a load (another data version) they start again at the new data's
    # defaults (a date kept from the sample company would read a snapshot's month as incomplete); a
    # session's first data version keeps what it has, a shared link's dates among them.
    if ss.get("p_dates_version", status["version"]) != status["version"]:
        for key in ("as_of", "compare_to"):
            ss.pop(_P[key], None)
    ss["p_dates_version"] = status["version"]
    ss.setdefault(_P["as_of"], default_as_of)
    ss.setdefault(_P["scheme"], "value_tier")
    # The default definition is the one for the data loaded now (a CRM snapshot pools churn over its own
    # month): a session still on the default follows a load that changes it; an edited or loaded one stays.
    default_toml = cached.default_definition_toml()
    if _P["definition"] not in ss or (ss[_P["definition"]] == ss.get("p_default_toml")
                                      and ss[_P["definition_name"]] == "Default"):
        ss[_P["definition"]], ss[_P["definition_name"]] = default_toml, "Default"
    ss["p_default_toml"] = default_toml
    # a date outside the data (e.g. from an old link after a new load) falls back to the default. The as-of
    # date is at least the first day after the data's first month: before it no month is complete, and
    # every monthly number (MRR, churn, costs) would be empty (DEFINITIONS.md "Months").
    earliest = min_date + timedelta(days=1)
    first_as_of = min(add_months(min_date.replace(day=1), 1), default_as_of)
    for key, fallback, lowest in (("as_of", default_as_of, first_as_of),
                                  ("compare_to", max(_months_before(default_as_of, 3), earliest), earliest)):
        # By default the comparison date is 3 months before the as-of date (once that one is valid).
        ss.setdefault(_P[key], max(_months_before(ss[_P["as_of"]], 3), earliest))
        if not (lowest <= ss[_P[key]] <= default_as_of):
            st.toast(f"{'As of' if key == 'as_of' else 'Compare with'} {ss[_P[key]]:%d %b %Y} is outside what the "
                     f"data allows ({lowest:%d %b %Y} – {default_as_of:%d %b %Y}); showing {fallback:%d %b %Y}.")
            ss[_P[key]] = fallback

    with st.sidebar:
        st.caption(f"Data {min_date:%d %b %Y} – {max_date:%d %b %Y} · {status['model_label']}")
        as_of = _widget(st.date_input, "As of", "as_of", min_value=first_as_of, max_value=default_as_of,
                        help="Numbers use data strictly before this date. Default: the day after the "
                             "latest date in the data; the earliest, the first day after the data's first "
                             "month (the first date with a complete month before it).")
        if ss[_P["compare_to"]] >= as_of:
            # The as-of date moved back to or past the comparison date: it follows, 3 months before.
            ss[_P["compare_to"]] = max(_months_before(as_of, 3), earliest)
        compare_to = _widget(st.date_input, "Compare with", "compare_to",
                             min_value=earliest, max_value=max(as_of - timedelta(days=1), earliest),
                             help="The earlier date the Segments page compares counts with, and Transitions (and the "
                                  "board pack's transitions) start from. The Overview's tiles always compare "
                                  "with the month before.")
        version = cached.view_version(status["version"], as_of, default_as_of)
        _check_linked(version, as_of)
        schemes = cached.available_schemes(ss[_P["definition"]])
        if ss[_P["scheme"]] not in schemes:
            ss[_P["scheme"]] = "value_tier"
        scheme = _widget(st.selectbox, "Segment by", "scheme", options=list(schemes),
                         format_func=lambda s: schemes[s],
                         help="Which segmentation every page uses.")
        saved = cached.saved_definitions()
        names = ["Default", *sorted(n for n in saved if n != "Default")]   # (saved as "Default" before it was refused)
        current = ss[_P["definition_name"]]
        if current not in names:
            names.append(current)
        choice = st.selectbox("Definition", names, index=names.index(current),
                              help="Thresholds, weights and assumptions. Edit them on the Segments page.")
        if choice != current:
            ss[_P["definition"]] = (choice != "Default" and saved.get(choice)) or cached.default_definition_toml()
            ss[_P["definition_name"]] = choice
            st.rerun()
        last = last_complete_month(as_of)
        st.caption(f"Last complete month: **{last:%Y-%m}**" if last >= min_date.replace(day=1)
                   else "No complete month yet.")
        if version != status["version"]:
            later, earlier = cached.late_revenue(version)
            if later:
                st.caption(f"Not known on {as_of:%d %b %Y}, so left out: {plural(later, 'revenue row')} dated on or "
                           "after it" + (f", {earlier:,} of them for service before it (refunds, or invoices billed "
                                         "in arrears): those months read lower than they will." if earlier else "."))

    _write_url(scheme, as_of, compare_to)
    return View(as_of=as_of, compare_to=compare_to, scheme=scheme,
                definition_toml=ss[_P["definition"]], definition_name=ss[_P["definition_name"]],
                version=version, meta=meta)


def _write_url(scheme: str, as_of: date, compare_to: date) -> None:
    ss = st.session_state
    params = {"scheme": scheme, "as_of": as_of.isoformat(), "compare_to": compare_to.isoformat()}
    name, text = ss[_P["definition_name"]], ss[_P["definition"]]
    saved = cached.saved_definitions()
    if name == "Default" and text == cached.default_definition_toml():
        pass
    elif saved.get(name) == text:
        params["definition"] = name
    else:
        params["definition"] = name
        params["def"] = encode_definition(text)
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


def _months_before(d: date, n: int) -> date:
    month = d.month - n
    year = d.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1) if d.day == 1 else date(year, month, min(d.day, 28))
