"""Where the real datasets live."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["resolve_data_dir"]

_REPO = Path(__file__).resolve().parents[2]


def resolve_data_dir(data: str | os.PathLike | None = None, marker: str = "") -> Path:
    """The data root: ``data``, else ``$BOLTZ_DATA``, else ``../shared/data`` (from the
    current directory, then from the repository root).

    Parameters
    ----------
    data : path-like, optional
        The root (holding ``wikipedia_info/``, ``uci_mfeat/``...) or a dataset's own
        folder; ``marker`` decides which: when ``data / marker`` is missing but
        ``data.parent / marker`` exists, the parent is returned.
    marker : str
        A relative path that must exist below the root (e.g.
        ``"wikipedia_info/raw_features.mat"``).

    Raises
    ------
    FileNotFoundError
        Naming every place tried and how to pass the location.
    """
    tried: list[Path] = []
    if data is not None:
        cands = [Path(data), Path(data).parent]
    elif os.environ.get("BOLTZ_DATA"):
        cands = [Path(os.environ["BOLTZ_DATA"])]
    else:
        cands = [Path.cwd().parent / "shared" / "data", _REPO.parent / "shared" / "data"]
    for c in cands:
        tried.append(c)
        if c.is_dir() and (not marker or (c / marker).exists()):
            return c
    raise FileNotFoundError(
        f"dataset files not found (looked for {marker or 'the data root'} under "
        f"{', '.join(str(t) for t in tried)}). Pass --data PATH (the folder holding "
        "wikipedia_info/, uci_mfeat/, ...) or set BOLTZ_DATA."
    )
