"""The marts published to the serving database (what BI tools read), in one place."""
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
]
