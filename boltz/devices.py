"""Device names: one vocabulary for boltz and bridge.

``"auto"`` (a GPU when there is one, else the CPU, saying so in the log), ``"cpu"`` and
``"gpu"``.  ``"cuda"``, PyTorch's name, is accepted everywhere as another spelling of
``"gpu"``, and where a library can address one of several GPUs (the bridge models, through
torch) ``"gpu:N"`` / ``"cuda:N"`` name GPU ``N``.  boltz itself runs on the current CuPy
device; choose another with ``cupy.cuda.Device(N).use()``.
"""

from __future__ import annotations

from typing import Any

from .errors import ConfigError

__all__ = ["DEVICES", "parse_device"]

#: The canonical device kinds.
DEVICES = ("auto", "cpu", "gpu")
_ALIASES = {"cuda": "gpu"}


def parse_device(device: Any, *, indexed: bool = False) -> tuple[str, int | None]:
    """The kind and GPU index of a device name.

    Parameters
    ----------
    device : str
        ``"auto"``, ``"cpu"``, ``"gpu"`` or ``"cuda"``; with ``indexed`` also ``"gpu:N"`` /
        ``"cuda:N"``.
    indexed : bool, default False
        Whether the caller can address one GPU of several.

    Returns
    -------
    kind : {"auto", "cpu", "gpu"}
    index : int or None
        The GPU index of ``"gpu:N"`` / ``"cuda:N"``; None otherwise.

    Raises
    ------
    ConfigError
        For any other value (a ``ValueError``).

    Examples
    --------
    >>> parse_device("cuda")
    ('gpu', None)
    >>> parse_device("cuda:1", indexed=True)
    ('gpu', 1)
    """
    if isinstance(device, str):
        kind, sep, index = device.partition(":")
        kind = _ALIASES.get(kind, kind)
        if kind in DEVICES and not sep:
            return kind, None
        if kind == "gpu" and sep and index.isdigit():
            if indexed:
                return kind, int(index)
            raise ConfigError(
                f"device={device!r}: boltz runs on the current CuPy device; select GPU "
                f"{index} with cupy.cuda.Device({index}).use() and pass device='gpu'."
            )
    names = "'auto', 'cpu', 'gpu' or 'cuda'" + (
        " ('gpu:N' / 'cuda:N' for GPU N)" if indexed else ""
    )
    raise ConfigError(f"device must be {names}; got {device!r}.")
