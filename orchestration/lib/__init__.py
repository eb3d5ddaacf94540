"""The platform's library, plain Python that imports no Dagster: settings and their schema,
the landing contract and ingestion (ingestion/), the drop planning and freshness rules, the GX
validation (validation.py), serving (serving/), the health configuration, alerts, the engines
and the sample landing-zone generator (sample_data/)."""
