"""The old GUI's capability flags: what each one unlocks, and why it is sensitive.

One table, used by the models (group defaults and per-user overrides), the admin, the
management commands, ``accounts.permissions`` and docs/permissions.md. Reading a name that is
not in this table is an error, never a silent False.
"""

from __future__ import annotations

FLAGS: dict[str, str] = {
    "can_cdr": "View the CDR list and call details (api.php getVoipCalls/listCdrIds, sql.php).",
    "can_write_cdr": "Edit or delete CDRs (sensitive: changes evidence).",
    "can_play_audio": "Play call recordings in the browser (sensitive: call content).",
    "can_download_audio": "Download recordings (getVoiceRecording, wav.php) (sensitive: call content leaves the system).",
    "can_listen_active_call": "Listen to calls in progress (sensitive: live interception).",
    "can_pcap": "Download PCAPs (getPCAP, pcap.php) (sensitive: full signalling and media).",
    "can_upload_pcap": "Upload PCAP files for analysis.",
    "can_messages": "View SIP MESSAGE records.",
    "can_view_content_message": "Read SIP MESSAGE bodies (sensitive: message content).",
    "can_graphs": "View RTP quality graphs and audio graphs (getAudioGraph).",
    "can_activecalls": "View active calls and pause/unpause their recording (listActiveCalls, handleActiveCall).",
    "can_register": "View SIP registrations.",
    "can_sip_msg": "View OPTIONS/SUBSCRIBE/NOTIFY monitoring.",
    "can_livesniffer": "Run the live sniffer (sensitive: live traffic).",
    "can_capture_rules": "Edit capture rules (sensitive: decides what is recorded).",
    "can_audit": "Read the audit log (sensitive: who did what).",
    "can_alerts_edit": "Create and edit alerts.",
    "can_reports_edit": "Create and edit reports (reportSummary definitions).",
    "can_dashboard": "View dashboards.",
    "can_ipacc": "View IP accounting.",
    "can_mtr": "Run MTR/traceroute from sensors.",
    "can_sensors_operations": "Restart and reconfigure sensors (sensitive: can stop capturing).",
    "can_network": "View the network/topology pages.",
    "can_edit_codebooks": "Edit codebooks (lookup tables).",
    "hide_license_information": "Hide licence information from this user (a restriction, not a right).",
}

# Flags that a group grants by default when it is created without explicit values.
DEFAULT_ON: frozenset[str] = frozenset({"can_cdr", "can_graphs", "can_dashboard", "can_messages"})

# Flags that restrict rather than allow: an admin does not get them implicitly.
RESTRICTIVE: frozenset[str] = frozenset({"hide_license_information"})


class UnknownFlag(KeyError):
    """A flag name that does not exist (typo or unsupported)."""

    def __str__(self) -> str:
        return f"unknown permission flag {self.args[0]!r}"


def check_flag_name(name: str) -> str:
    if name not in FLAGS:
        raise UnknownFlag(name)
    return name
