"""Failure alerts to a Slack-compatible incoming webhook (JSON {"text": ..., "blocks": [...]}).

The URL comes from the environment variable named in config/pipeline.yaml
(alerts.webhook_env_var, default CSP_ALERT_WEBHOOK_URL). No URL set = no alert, no error.
Posting never raises: a broken webhook must not break the sensor that reports failures."""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence

from orchestration.lib.settings import get_settings

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2500  # Slack section text limit is 3000


def _truncate(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 20] + "\n... (truncated)"


def build_message(
    *,
    title: str,
    assets: Sequence[str],
    error: str,
    run_id: str | None,
    job_name: str | None = None,
    check: str | None = None,
    partition: str | None = None,
) -> dict:
    """Slack-compatible payload: `text` (fallback / notifications) + Block Kit `blocks`.
    Plain fields are duplicated under `csp` for machines (ignored by Slack)."""
    settings = get_settings().alerts
    run_url = settings.run_url(run_id) if run_id else None
    asset_list = ", ".join(assets) if assets else "(none)"
    lines = [f":red_circle: *{title}*"]
    fields = []
    if job_name:
        fields.append({"type": "mrkdwn", "text": f"*Job:*\n{job_name}"})
    fields.append({"type": "mrkdwn", "text": f"*Asset:*\n{_truncate(asset_list, 500)}"})
    if check:
        fields.append({"type": "mrkdwn", "text": f"*Check:*\n{check}"})
    if partition:
        fields.append({"type": "mrkdwn", "text": f"*Partition:*\n{partition}"})
    if run_url:
        fields.append({"type": "mrkdwn", "text": f"*Run:*\n<{run_url}|{run_id[:8]}>"})
    text = f"{title}: {asset_list}" + (f" (check {check})" if check else "") + f"\nError: {_truncate(error, 500)}"
    if run_url:
        text += f"\nRun: {run_url}"
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
        {"type": "section", "fields": fields[:10]},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Error:*\n```{_truncate(error)}```"}},
    ]
    if run_url:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open run in Dagster"}, "url": run_url}]})
    return {
        "text": text,
        "blocks": blocks,
        "csp": {"title": title, "assets": list(assets), "error": error, "run_id": run_id,
                "run_url": run_url, "job": job_name, "check": check, "partition": partition},
    }


def post_alert(payload: dict, url: str | None = None, timeout: float | None = None) -> bool:
    """POST the payload as JSON; True if the webhook answered 2xx. Never raises."""
    settings = get_settings().alerts
    url = url or settings.webhook_url
    if not url:
        log.debug("no alert webhook configured (%s unset): not posting", settings.webhook_env_var)
        return False
    try:
        data = json.dumps(payload, default=str).encode()
        req = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout or settings.timeout_seconds) as resp:
            ok = 200 <= resp.status < 300
        if not ok:
            log.warning("alert webhook answered HTTP %s", resp.status)
        return ok
    except Exception as exc:  # network, DNS, HTTP error, bad URL: report, never raise
        log.warning("could not post alert to webhook: %s", exc)
        return False
