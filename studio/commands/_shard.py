"""What a process of a sharded batch job says about its own share (not a sub-command: `_` names are skipped)."""

from __future__ import annotations


def report_share(manifest: dict, people: str = "people") -> bool:
    """Print this process's share when the job ran in several; True when another process (the
    main one) prints the summary of the whole job, so this one should print nothing more."""
    share = manifest["shard"]
    if share["count"] <= 1:
        return False
    print(f"{share['shard']}: {share['clips']} clips of {share['people']} {people} made by this process")
    return not share["main"]
