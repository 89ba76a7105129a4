"""The README's main job on embedded data (no download): see ``--help``."""

from __future__ import annotations

from .rbm_digits import main

if __name__ == "__main__":
    main()
