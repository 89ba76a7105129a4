"""The torch modules of HRL: the joint autoencoder, the feed-forward net and one level
of the stacked bimodal autoencoders (the equations are in :mod:`bridge.models.hrl`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .._layers import ACTIVATIONS

__all__ = ["BimodalLayer", "FeedForward", "JointAutoencoder", "ff_embedding", "to_numpy"]


class JointAutoencoder(nn.Module):
    """Joint AE of one view: ``[part_1, ..., part_k] -> sigmoid code -> each part``.

    Parameters
    ----------
    parts : sequence of int
        Widths of the concatenated inputs (e.g. friendly 512, mutual 2048).
    hidden : int
        Code width.
    """

    def __init__(self, parts: Sequence[int], hidden: int) -> None:
        super().__init__()
        self.parts = [int(p) for p in parts]
        self.encoder = nn.Linear(sum(self.parts), hidden)
        self.decoders = nn.ModuleList(nn.Linear(hidden, p) for p in self.parts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Code ``Y`` of the concatenated input ``x`` (n, sum(parts)), shape (n, hidden)."""
        return torch.sigmoid(self.encoder(x))

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Sum over parts of the mean binary cross-entropy per feature, averaged over rows."""
        h = self(x)
        total = x.new_zeros(())
        for dec, part in zip(self.decoders, torch.split(x, self.parts, dim=1)):
            bce = nn.functional.binary_cross_entropy_with_logits(dec(h), part, reduction="none")
            total = total + bce.mean(1).mean()
        return total


class FeedForward(nn.Module):
    """``d_in -> hidden[0] -> ... -> hidden[-1]`` (activation, dropout) plus a softmax layer."""

    def __init__(
        self, d_in: int, hidden: Sequence[int], n_classes: int, activation: str, dropout: float
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        sizes = [int(d_in), *map(int, hidden)]
        for i in range(len(hidden)):
            layers += [nn.Linear(sizes[i], sizes[i + 1]), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        self.body = nn.Sequential(*layers)
        self.classifier = nn.Linear(sizes[-1], n_classes)
        self.register_buffer("input_mean", torch.zeros(int(d_in)))
        self.register_buffer("input_scale", torch.ones(int(d_in)))

    def set_stats(self, X: torch.Tensor) -> None:
        """Standardise the input with the training mean and std of ``X`` (n, d_in)."""
        s = X.std(0)
        self.input_mean.copy_(X.mean(0))
        self.input_scale.copy_(torch.where(s < 1e-6, torch.ones_like(s), s))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Top hidden layer of the standardised input, shape (n, hidden[-1])."""
        return self.body((x - self.input_mean) / self.input_scale)


class BimodalLayer(nn.Module):
    """One bimodal autoencoder of the stack (see :mod:`bridge.models.hrl`).

    Inputs are standardised with the buffers ``mean_i`` / ``scale_i`` (view ``i`` in
    ``names`` order); a missing view contributes zero (its training mean).
    """

    def __init__(self, widths: Mapping[str, int], code: int, n_classes: int) -> None:
        super().__init__()
        self.names = list(widths)
        self.enc = nn.ModuleDict(
            {k: nn.Linear(int(d), code, bias=False) for k, d in widths.items()}
        )
        self.bias = nn.Parameter(torch.zeros(code))
        self.dec = nn.ModuleDict({k: nn.Linear(code, int(d)) for k, d in widths.items()})
        self.classifier = nn.Linear(code, n_classes)
        for i, d in enumerate(widths.values()):
            self.register_buffer(f"mean_{i}", torch.zeros(int(d)))
            self.register_buffer(f"scale_{i}", torch.ones(int(d)))

    def standardize(self, k: str, x: torch.Tensor) -> torch.Tensor:
        """View ``k``'s input ``x`` (n, width) standardised with the training statistics."""
        i = self.names.index(k)
        return (x - getattr(self, f"mean_{i}")) / getattr(self, f"scale_{i}")

    def code(self, given: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Shared code from the given views (raw inputs; missing views at their mean)."""
        z = self.bias
        for k, x in given.items():
            z = z + self.enc[k](self.standardize(k, x))
        return torch.sigmoid(z)

    def set_stats(self, X: Mapping[str, torch.Tensor]) -> None:
        """Set the buffers to the mean and std of the training inputs ``X[k]`` (n, d_k)."""
        for i, k in enumerate(self.names):
            m = X[k].mean(0)
            s = X[k].std(0)
            s = torch.where(s < 1e-6, torch.ones_like(s), s)
            getattr(self, f"mean_{i}").copy_(m)
            getattr(self, f"scale_{i}").copy_(s)


def ff_embedding(ff: FeedForward, x: torch.Tensor, posteriors: bool) -> torch.Tensor:
    """What a feed-forward net passes on: its top hidden layer, or with ``posteriors``
    its class posteriors (the variant without BAEs), shape (n, width)."""
    if posteriors:
        return torch.softmax(ff.classifier(ff(x)), 1)
    return ff(x)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor as a host NumPy array (detached)."""
    return t.detach().cpu().numpy()
