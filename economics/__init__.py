"""Economics: MRR movements, cohorts, LTV / CAC / payback and cost to serve by segment (pure; no files, no UI).

Modules: assumptions (settings with defaults), ledger (calendar months), mrr (movements and KPIs),
cohorts (retention and activation), unit (segment economics, CAC attribution, verdict, waterfall),
costs (usage and support burden). Every metric means what ../shared/DEFINITIONS.md says.
"""
__all__: list[str] = []
