"""Hook points and activation caching, after TransformerLens's ``HookPoint`` / ``run_with_cache``.

A :class:`HookPoint` is an identity module placed wherever a model computes something worth
looking at. :meth:`HookedModel.run_with_cache` attaches a forward hook to every hook point,
runs the model once and returns ``(output, cache)`` where ``cache`` maps each hook point's
dotted name (``"blocks.0.attn.hook_pattern"``) to the tensor that passed through it.
Hooks are always removed in ``finally``; nothing is stored on the model between calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import contextmanager

import torch
from torch import nn

HookFn = Callable[[torch.Tensor, str], torch.Tensor | None]


class HookPoint(nn.Module):
    """Identity module that marks an activation: ``y = x``, with a stable name for hooks."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class HookedModel(nn.Module):
    """Base class giving every model ``run_with_cache`` and ``run_with_hooks``."""

    def hook_points(self) -> dict[str, HookPoint]:
        """All hook points of the model, by dotted name."""
        return {name: m for name, m in self.named_modules() if isinstance(m, HookPoint)}

    @contextmanager
    def hooks(self, fwd_hooks: Iterable[tuple[str | Callable[[str], bool], HookFn]]):
        """Attach forward hooks for the duration of a ``with`` block.

        Each hook is ``(name_or_filter, fn)``; ``fn(tensor, name)`` may return a replacement tensor.
        """
        handles = []
        points = self.hook_points()
        try:
            for selector, fn in fwd_hooks:
                for name, point in points.items():
                    if selector == name or (callable(selector) and selector(name)):
                        handles.append(point.register_forward_hook(_wrap(fn, name)))
            yield self
        finally:
            for handle in handles:
                handle.remove()

    def run_with_hooks(self, *args, fwd_hooks=(), **kwargs):
        """Run ``forward`` with the given hooks attached (for ablations and patching)."""
        with self.hooks(fwd_hooks):
            return self(*args, **kwargs)

    def run_with_cache(
        self,
        *args,
        names_filter: Callable[[str], bool] | None = None,
        detach: bool = True,
        cache_dtype: torch.dtype | None = None,
        **kwargs,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Run the model and record every hook point's activation.

        Returns ``(logits, cache)``. With ``detach=False`` the cached tensors stay in the autograd
        graph (for gradients with respect to activations). ``cache_dtype`` (e.g. ``torch.float16``) stores each
        activation converted as it is recorded: a long input's attention patterns then take half the memory,
        at their peak too.
        """
        cache: dict[str, torch.Tensor] = {}

        def record(tensor: torch.Tensor, name: str) -> None:
            kept = tensor.detach() if detach else tensor
            cache[name] = kept if cache_dtype is None else kept.to(cache_dtype)

        selector = names_filter if names_filter is not None else (lambda _name: True)
        context = torch.no_grad() if detach else _null_context()
        with context, self.hooks([(selector, record)]):
            output = self._cached_forward(*args, **kwargs)
        return output, cache

    def _cached_forward(self, *args, **kwargs) -> torch.Tensor:
        """The forward pass that ``run_with_cache`` instruments (models may override it)."""
        return self(*args, **kwargs)


def _wrap(fn: HookFn, name: str):
    def hook(_module, _inputs, output):
        return fn(output, name)

    return hook


@contextmanager
def _null_context():
    yield
