"""The networks of :class:`bridge.models.dm2c.DM2C` and the WGAN-GP gradient penalty."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

__all__ = ["DM2CNet", "gradient_penalty"]


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    r"""WGAN-GP penalty ``E (||∇_x D(x̃)||_2 - 1)²`` on interpolates of real and fake rows.

    Parameters
    ----------
    critic : nn.Module
        Maps (m, d) to (m, 1).
    real, fake : Tensor of shape (m_r, d), (m_f, d)
        The first ``min(m_r, m_f)`` rows of each are paired (both are in random order).
    generator : torch.Generator
        Draws the interpolation weights ``ε ~ U(0, 1)``.

    Returns
    -------
    Tensor, scalar
        Differentiable in the critic's parameters.
    """
    m = min(real.shape[0], fake.shape[0])
    eps = torch.rand(m, 1, generator=generator).to(real.device, real.dtype)
    x = (eps * real[:m] + (1.0 - eps) * fake[:m]).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return (g.norm(dim=1) - 1.0).pow(2).mean()


def _mlp(
    sizes: Sequence[int], slope: float = 0.2, *, batchnorm: bool = False, last_act: bool = False
) -> nn.Sequential:
    """Linear layers with LeakyReLU (then BatchNorm1d, with ``batchnorm``) between them;
    a linear output, or LeakyReLU after the last layer too with ``last_act``."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(slope))
            if batchnorm:
                layers.append(nn.BatchNorm1d(sizes[i + 1]))
        elif last_act:
            layers.append(nn.LeakyReLU(slope))
    return nn.Sequential(*layers)


def _generator(spec: Mapping[str, Any]) -> nn.Sequential:
    """``latent -> *generator_hidden -> latent`` (``"mlp"``), or, for the authors' shape
    (``"autoencoder"``), an autoencoder over the latent space: ``latent ->
    *generator_hidden`` then back through the reversed widths to ``latent``."""
    lat, gh, bn = spec["latent"], list(spec["generator_hidden"]), spec.get("batchnorm", False)
    if spec.get("generator_shape", "mlp") == "mlp":
        return _mlp([lat, *gh, lat], batchnorm=bn)
    return nn.Sequential(
        _mlp([lat, *gh], batchnorm=bn),
        _mlp([gh[-1], *reversed(gh[:-1]), lat], batchnorm=bn, last_act=True),
    )


class DM2CNet(nn.Module):
    """All the networks of :class:`DM2C` for two views ``a`` and ``b``.

    Attributes
    ----------
    encoders, decoders : nn.ModuleDict
        Per view name: ``d_v -> *hidden -> latent`` and back (LeakyReLU(0.2) between
        layers, then BatchNorm1d with ``spec["batchnorm"]``; linear code; linear
        output, or LeakyReLU with ``spec["decoder_output_act"]``).
    generators : nn.ModuleDict
        ``"{a}_to_{b}"`` and ``"{b}_to_{a}"``: ``latent -> *generator_hidden -> latent``
        (``spec["generator_shape"] == "mlp"``), or an autoencoder over the latent
        space (``"autoencoder"``, see :func:`_generator`).
    critics : nn.ModuleDict
        Per view name, on that view's latent space: ``latent -> *critic_hidden -> 1``.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__()
        names = spec["names"]
        lat = spec["latent"]
        bn = bool(spec.get("batchnorm", False))
        dec_act = bool(spec.get("decoder_output_act", False))
        self.encoders = nn.ModuleDict(
            {k: _mlp([spec["n_in"][k], *spec["hidden"], lat], batchnorm=bn) for k in names}
        )
        self.decoders = nn.ModuleDict(
            {
                k: _mlp(
                    [lat, *reversed(spec["hidden"]), spec["n_in"][k]],
                    batchnorm=bn,
                    last_act=dec_act,
                )
                for k in names
            }
        )
        a, b = names
        self.generators = nn.ModuleDict(
            {f"{a}_to_{b}": _generator(spec), f"{b}_to_{a}": _generator(spec)}
        )
        self.critics = nn.ModuleDict({k: _mlp([lat, *spec["critic_hidden"], 1]) for k in names})
