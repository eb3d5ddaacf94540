"""What the Dagster instance's runs did and how to repair them: `pipeline_state` (what `csp
status` and `csp build` read: drops, publications, the last build run) and `recovery` (runs a
killed process left STARTED, and their pool slots). Used by the sensors and by `csp`."""
