"""Classical two-view baselines the cross-modal papers compare against.

Each is a :class:`bridge.base.MultiViewModel` (``fit(views)`` /
``transform(views)`` on a dict of two named views), exact, and computed with
SciPy in float64:

* :class:`CCA` -- regularised canonical correlation analysis.
* :class:`KCCA` -- regularised kernel CCA (exact, or Nyström features for large n).
* :class:`CFA` -- cross-modal factor analysis.

No torch is imported.
"""

from __future__ import annotations

from .cca import CCA
from .cfa import CFA
from .kcca import KCCA

__all__ = ["CCA", "CFA", "KCCA"]
