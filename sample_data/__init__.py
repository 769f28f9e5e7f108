"""The sample company, Northwind Analytics: shipped CSVs and the deterministic generator that wrote them."""
