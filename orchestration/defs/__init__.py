"""The Dagster definitions: assets (assets/), asset checks (checks/), jobs, schedules, sensors,
partitions and the dbt project as Dagster sees it (dbt_project.py). orchestration/definitions.py
wires them into one `Definitions`. The logic they call lives in orchestration/lib/, which
imports no Dagster."""
