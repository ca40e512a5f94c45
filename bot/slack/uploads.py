"""Sharing a file in a channel with Slack's upload flow: files.getUploadURLExternal, the bytes to the URL
it gives, then files.completeUploadExternal with the channel (files.upload is retired)."""

from __future__ import annotations

import logging
import urllib.request

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
UPLOAD_TIMEOUT_S = 20


def share_file(
    client: WebClient, *, channel_id: str, data: bytes, filename: str, title: str, comment: str = ""
) -> str | None:
    """The file's id once it is shared in the channel, or None when Slack refused any step."""
    try:
        ticket = client.files_getUploadURLExternal(filename=filename, length=len(data))
        request = urllib.request.Request(
            ticket["upload_url"], data=data, method="POST", headers={"Content-Type": "application/octet-stream"}
        )
        with urllib.request.urlopen(request, timeout=UPLOAD_TIMEOUT_S) as answer:
            if answer.status != 200:
                log.warning("the upload URL answered %s", answer.status)
                return None
        client.files_completeUploadExternal(
            files=[{"id": ticket["file_id"], "title": title}],
            channel_id=channel_id,
            initial_comment=comment or None,
        )
    except SlackApiError as exc:
        log.warning("sharing %s in %s was refused: %s", filename, channel_id, exc.response.get("error"))
        return None
    except OSError as exc:
        log.warning("uploading %s failed: %s", filename, exc)
        return None
    return str(ticket["file_id"])
