"""Which real clip each generated clip came from: the generated folder's `manifest.json`, or the
anonymizer's `anon-<subject>` names (the forms a manifest entry takes: `evaluation.fidelity_report`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from evaluation.report.values import Key
from gaitdata.errors import GaitDataError

MANIFEST_NAME = "manifest.json"
ANONYMIZED_PREFIX = "anon-"  # the anonymizer names its results `anon-<source subject>`


def _key_from_path(text: str) -> Key | None:
    path = PurePath(str(text))
    parts = path.parts[-4:-1] if path.suffix == ".pkl" else path.parts[-3:]
    return tuple(parts) if len(parts) == 3 else None


def _entry_key(entry: dict) -> Key | None:
    if all(entry.get(k) for k in ("subject", "condition", "view")):
        return (str(entry["subject"]), str(entry["condition"]), str(entry["view"]))
    return _key_from_path(entry["path"]) if entry.get("path") else None


def _source_key(entry: dict) -> Key | None:
    source = entry.get("source", entry.get("source_path"))
    if isinstance(source, dict) and all(source.get(k) for k in ("subject", "condition", "view")):
        return (str(source["subject"]), str(source["condition"]), str(source["view"]))
    if isinstance(source, str) and source:
        return _key_from_path(source)
    if all(entry.get(f"source_{k}") for k in ("subject", "condition", "view")):
        return (str(entry["source_subject"]), str(entry["source_condition"]), str(entry["source_view"]))
    return None


@dataclass
class GeneratedManifest:
    """What the generated folder's `manifest.json` says about its clips.

    Attributes:
        sources: (subject, condition, view) of a clip → its source clip's.
        copies: clips the manifest marks as unmodified real copies (`"action": "copy"`, as an
            augmented dataset holds): they are left out of the report.
    """

    sources: dict[Key, Key] = field(default_factory=dict)
    copies: set[Key] = field(default_factory=set)


def read_manifest(generated_root: str | Path) -> GeneratedManifest:
    """Read `<generated_root>/manifest.json` if there is one (its `"sequences"` rows)."""
    path = Path(generated_root) / MANIFEST_NAME
    out = GeneratedManifest()
    if not path.is_file():
        return out
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise GaitDataError(path, f"not valid JSON: {err}") from None
    entries = manifest.get("sequences", manifest.get("clips", [])) if isinstance(manifest, dict) else []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not (key := _entry_key(entry)):
            continue
        if entry.get("action") == "copy":
            out.copies.add(key)
        elif source := _source_key(entry):
            out.sources[key] = source
    return out


def source_of(key: Key, sources: dict[Key, Key], kind: str) -> tuple[Key | None, str]:
    """The source clip a generated clip claims, and how that is known ("manifest", "name" or "")."""
    if key in sources:
        return sources[key], "manifest"
    subject, condition, view = key
    if kind == "anonymized" and subject.startswith(ANONYMIZED_PREFIX):
        # the anonymizer keeps condition and view, and names the subject anon-<source>
        return (subject[len(ANONYMIZED_PREFIX) :], condition, view), "name"
    return None, ""
