"""Secrets for source systems: from an environment variable or a private file, never inline.

A password written into the agent's TOML ends up in backups, tickets and screenshots, so adapter
configurations name where the secret lives (``password_env = "ERP_PASSWORD"`` or
``password_file = "/etc/fedcarbon/erp.secret"``) instead of holding it. A file must not be
readable by group or others (the rule OpenSSH applies to private keys). The secret value is never
put into an exception message.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from fedcarbon.adapters.errors import CredentialError

_PRIVATE_MASK = stat.S_IRWXG | stat.S_IRWXO


def read_secret(
    adapter: str,
    *,
    env: str | None,
    file: Path | None,
    key: str = "password",
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """Return the secret named by ``<key>_env`` or ``<key>_file``, or ``None`` if neither is set.

    Raises:
        CredentialError: the variable is unset or empty, the file is missing, or the file is
            readable by group or others (``chmod 600`` fixes it).
    """
    if env is not None and file is not None:
        raise CredentialError(adapter, f"{key}_env", f"cannot be combined with {key}_file")
    if env is not None:
        value = (os.environ if environ is None else environ).get(env)
        if not value:
            raise CredentialError(adapter, f"{key}_env", f"names ${env}, which is not set")
        return value
    if file is not None:
        try:
            info = file.stat()
        except OSError as exc:
            raise CredentialError(
                adapter, f"{key}_file", f"{file} cannot be read ({exc.strerror})"
            ) from None
        if info.st_mode & _PRIVATE_MASK:
            raise CredentialError(
                adapter,
                f"{key}_file",
                f"{file} is readable by group or others (mode {stat.filemode(info.st_mode)});"
                f" run: chmod 600 {file}",
            )
        value = file.read_text(encoding="utf-8").strip()
        if not value:
            raise CredentialError(adapter, f"{key}_file", f"{file} is empty")
        return value
    return None


def redact(text: str, *secrets: str | None) -> str:
    """Replace each secret occurring in ``text`` by ``***`` (for driver errors that echo a URL)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
