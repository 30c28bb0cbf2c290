"""Secrets by reference, and the redactor that keeps them out of logs, traces and evidence.

config.yaml never holds a secret. A secret option holds a reference:

    password: ${PORTAL_PASSWORD}      # an environment variable
    password: secret:portal_password  # a key of the secrets file named by `secrets_file:`

Every resolved value is registered with the process-wide `REDACTOR`, which masks it (and its
URL-encoded and HTML-escaped forms) wherever text leaves the process: log lines, exception
messages stored on runs, HTML snapshots, HAR files and screenshot sidecars.
"""

from __future__ import annotations

import html
import os
import re
import threading
from pathlib import Path
from urllib.parse import quote, quote_plus

import yaml

MASK = "********"
_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_FILE_REF = re.compile(r"^secret:([A-Za-z0-9_.\-]+)$")


class SecretReferenceError(ValueError):
    """A secret option is inline, malformed, or names something that does not exist."""


class Redactor:
    """Masks every registered secret value in text. Thread-safe; values shorter than 4 are ignored."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def register(self, secret: str) -> None:
        if len(secret) < 4:
            return  # masking "ab" everywhere would destroy logs and protect nothing
        with self._lock:
            forms = {secret, quote(secret, safe=""), quote_plus(secret), html.escape(secret)}
            if forms <= self._values:
                return
            self._values |= forms
            alternatives = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(value) for value in alternatives))

    def mask(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern else text

    def mask_bytes(self, blob: bytes) -> bytes:
        if self._pattern is None:
            return blob
        return self.mask(blob.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._values)


REDACTOR = Redactor()


class SecretsResolver:
    """Resolves `${VAR}` and `secret:NAME` references; registers what it resolves with REDACTOR."""

    def __init__(self, secrets_file: Path | None = None, environ: dict[str, str] | None = None) -> None:
        self.secrets_file = secrets_file
        self.environ = os.environ if environ is None else environ
        self._file_values: dict[str, str] | None = None

    def _load_file(self) -> dict[str, str]:
        if self._file_values is None:
            if self.secrets_file is None:
                raise SecretReferenceError("a secret:NAME reference needs `secrets_file:` in the config")
            if not self.secrets_file.exists():
                raise SecretReferenceError(
                    f"the secrets file {self.secrets_file} does not exist "
                    "(scripts/setup creates the sandbox's; create yours with mode 0600)"
                )
            loaded = yaml.safe_load(self.secrets_file.read_text(encoding="utf-8")) or {}
            if not isinstance(loaded, dict):
                raise SecretReferenceError(f"the secrets file {self.secrets_file} is not a mapping of names")
            self._file_values = {str(key): str(value) for key, value in loaded.items()}
        return self._file_values

    def resolve(self, reference: str) -> str:
        if match := _ENV_REF.match(reference):
            name = match.group(1)
            if name not in self.environ:
                raise SecretReferenceError(f"environment variable {name} is not set")
            value = self.environ[name]
        elif match := _FILE_REF.match(reference):
            name = match.group(1)
            values = self._load_file()
            if name not in values:
                raise SecretReferenceError(f"{name!r} is not in the secrets file {self.secrets_file}")
            value = values[name]
        else:
            raise SecretReferenceError(
                "secrets are given by reference (${ENV_VAR} or secret:NAME), never inline"
            )
        REDACTOR.register(value)
        return value
