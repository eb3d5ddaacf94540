"""The published marts and where they are served from: the DuckDB file (duckdb_file.py) or a
PostgreSQL schema (postgres.py), with their table and column comments (mart_docs.py)."""

# the marts published to the serving database (what BI tools read)
PUBLISHED_MARTS = [
    "dim_accounts",
    "fct_account_daily",
    "fct_account_lifecycle_daily",
    "fct_mrr_movements",
    "mart_renewals",
    "mart_renewal_rates",
    "mart_revenue_retention",
    "mart_account_health",
    "mart_service_efficiency",
    "mart_cs_alerts",
    "mart_cs_kpis_monthly",
    "mart_csm_book",
    "mart_csm_book_monthly",
]

# the warehouse schema the marts are built in, the serving file's schema they are published
# to, and the table of the serving file that says which publication wrote it
WAREHOUSE_SCHEMA = "marts"
SERVING_SCHEMA = "main"
PUBLICATION_TABLE = "_publication"
