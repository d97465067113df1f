"""Layers of a converted checkpoint: norms, attention (grouped-query, rotary), MLPs. Weights are read-only.

Projections are ``nn.Linear`` modules whose weights share the loaded tensors ([out, in], no copy): the forward pass
is a fast linear map, ``peft`` can put a LoRA adapter on any of them by name (``q``, ``k``, ``v``, ``o``, ``fc_in``,
``fc_out``), and properties expose TransformerLens's per-head shapes. A fine-tuning run switches gradients on for
its own copy of the parameters it trains (explorer/models/finetune); the shared copy never trains.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (the usual name)

from explorer.models.hooks import HookPoint

ACTIVATIONS = {
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
}


def frozen(tensor: torch.Tensor | None) -> nn.Parameter | None:
    """A parameter that shares ``tensor``'s storage and never asks for gradients."""
    return None if tensor is None else nn.Parameter(tensor.detach(), requires_grad=False)


def frozen_linear(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    """An ``nn.Linear`` (weight [out, in]) whose parameters share the checkpoint's tensors, without gradients.

    A module rather than a bare ``F.linear``, so that ``peft`` can wrap it with a LoRA adapter (its forward then
    adds B·A·x to W·x) and fine-tuning can switch gradients on for its weight or bias."""
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, device="meta")
    layer.weight = frozen(weight)
    if bias is not None:
        layer.bias = frozen(bias)
    return layer


class Norm(nn.Module):
    """LayerNorm (weight, bias) or RMSNorm (Zhang & Sennrich 2019: x / rms(x) · weight), with ``hook_normalized``."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, eps: float, kind: str = "layernorm"):
        super().__init__()
        self.w, self.b, self.eps, self.kind = frozen(weight), frozen(bias), eps, kind
        self.hook_normalized = HookPoint()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "rmsnorm":  # as Hugging Face's LlamaRMSNorm: in float32, weight applied last
            x32 = x.float()
            normed = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
            return self.hook_normalized(self.w * normed.to(x.dtype))
        return self.hook_normalized(F.layer_norm(x, self.w.shape, self.w, self.b, self.eps))


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """Hugging Face's rotary pairing: dimension i is paired with i + d/2 (not the paper's adjacent pairs)."""
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def rotary_cos_sin(n_pos: int, inv_freq: torch.Tensor, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin of m·θ_i, each [pos, d_head] (the d/2 angles written twice, for rotate_half's pairing)."""
    pos = torch.arange(n_pos, dtype=torch.float32, device=inv_freq.device)
    angles = pos[:, None] * inv_freq.float()[None, :]  # [pos, d_head/2]
    both = torch.cat([angles, angles], dim=-1)  # [pos, d_head]
    return both.cos() * scale, both.sin() * scale


class PretrainedAttention(nn.Module):
    """Multi-head (or grouped-query) attention with an explicit softmax.

    Per query head h, with key/value head g = ``kv_head_of[h]`` = h // (n_heads / n_kv_heads):
        A_h = softmax(q_h k_gᵀ · scale),  z_h = A_h v_g,  out = Σ_h z_h W_O[h] + b_O,   scale = 1/√d_head.
    Hook shapes follow TransformerLens: ``hook_q`` [batch, pos, head, d_head]; ``hook_k``, ``hook_v``
    [batch, pos, kv_head, d_head] (before sharing, as TransformerLens's grouped-query attention);
    ``hook_rot_q``/``hook_rot_k`` after the rotation (rotary only); ``hook_attn_scores`` (masked: -inf) and
    ``hook_pattern`` [batch, head, q_pos, k_pos]; ``hook_z`` [batch, pos, head, d_head].
    """

    def __init__(self, q: tuple, k: tuple, v: tuple, o: tuple, n_heads: int, n_kv_heads: int, d_head: int,
                 rotary: bool = False, scale: float | None = None):
        """q, k, v, o: (weight [out, in], bias [out] or None) in ``nn.Linear`` layout."""
        super().__init__()
        self.n_heads, self.n_kv_heads, self.d_head, self.rotary = n_heads, n_kv_heads, d_head, rotary
        self.scale = d_head ** -0.5 if scale is None else scale
        self.q, self.k, self.v, self.o = (frozen_linear(*wb) for wb in (q, k, v, o))  # [out, in] layout
        self.register_buffer("kv_head_of", torch.arange(n_heads) // (n_heads // n_kv_heads), persistent=False)
        self.hook_q, self.hook_k, self.hook_v = HookPoint(), HookPoint(), HookPoint()
        if rotary:
            self.hook_rot_q, self.hook_rot_k = HookPoint(), HookPoint()
        self.hook_attn_scores, self.hook_pattern, self.hook_z = HookPoint(), HookPoint(), HookPoint()

    @property
    def group_size(self) -> int:
        """Query heads per key/value head."""
        return self.n_heads // self.n_kv_heads

    def share_kv(self, t: torch.Tensor, dim: int) -> torch.Tensor:
        """Repeat key/value heads along ``dim`` so that query head h sees key/value head h // group_size."""
        return t if self.group_size == 1 else t.repeat_interleave(self.group_size, dim=dim)

    # ----------------------------------------------------------------- nn.Linear layout ([out, in], [out])
    @property
    def q_weight(self) -> torch.Tensor:
        return self.q.weight

    @property
    def q_bias(self) -> torch.Tensor | None:
        return self.q.bias

    @property
    def k_weight(self) -> torch.Tensor:
        return self.k.weight

    @property
    def k_bias(self) -> torch.Tensor | None:
        return self.k.bias

    @property
    def v_weight(self) -> torch.Tensor:
        return self.v.weight

    @property
    def v_bias(self) -> torch.Tensor | None:
        return self.v.bias

    @property
    def o_weight(self) -> torch.Tensor:
        return self.o.weight

    @property
    def o_bias(self) -> torch.Tensor | None:
        return self.o.bias

    # ----------------------------------------------------------------- TransformerLens-shaped weights
    def _per_head_in(self, weight: torch.Tensor, n: int) -> torch.Tensor:
        d_model = weight.shape[1]
        return weight.view(n, self.d_head, d_model).transpose(1, 2)  # [n, d_model, d_head]

    @property
    def W_Q(self) -> torch.Tensor:
        """[n_heads, d_model, d_head]."""
        return self._per_head_in(self.q_weight, self.n_heads)

    @property
    def W_K(self) -> torch.Tensor:
        """[n_heads, d_model, d_head]: each query head's key weights (shared heads repeated)."""
        return self.share_kv(self._per_head_in(self.k_weight, self.n_kv_heads), 0)

    @property
    def W_V(self) -> torch.Tensor:
        """[n_heads, d_model, d_head] (shared heads repeated)."""
        return self.share_kv(self._per_head_in(self.v_weight, self.n_kv_heads), 0)

    @property
    def W_O(self) -> torch.Tensor:
        """[n_heads, d_head, d_model]."""
        return self.o_weight.T.reshape(self.n_heads, self.d_head, -1)

    def _bias(self, bias: torch.Tensor | None, n: int) -> torch.Tensor:
        if bias is None:
            return self.q_weight.new_zeros(n, self.d_head)
        return bias.view(n, self.d_head)

    @property
    def b_Q(self) -> torch.Tensor:
        """[n_heads, d_head]."""
        return self._bias(self.q_bias, self.n_heads)

    @property
    def b_K(self) -> torch.Tensor:
        return self.share_kv(self._bias(self.k_bias, self.n_kv_heads), 0)

    @property
    def b_V(self) -> torch.Tensor:
        return self.share_kv(self._bias(self.v_bias, self.n_kv_heads), 0)

    @property
    def b_O(self) -> torch.Tensor:
        """[d_model]."""
        return self.o_weight.new_zeros(self.o_weight.shape[0]) if self.o_bias is None else self.o_bias

    # ----------------------------------------------------------------- forward
    def forward(self, x: torch.Tensor, allowed: torch.Tensor | None = None,
                rotary: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """x [batch, pos, d_model] -> [batch, pos, d_model].

        ``allowed``: bool, broadcastable to [batch, head, q_pos, k_pos]; ``rotary``: (cos, sin) [pos, d_head].
        """
        batch, n_pos, _ = x.shape
        q = self.hook_q(self.q(x).view(batch, n_pos, self.n_heads, self.d_head))
        k = self.hook_k(self.k(x).view(batch, n_pos, self.n_kv_heads, self.d_head))
        v = self.hook_v(self.v(x).view(batch, n_pos, self.n_kv_heads, self.d_head))
        if self.rotary and rotary is not None:
            cos, sin = (t[:, None, :].to(x.dtype) for t in rotary)  # [pos, 1, d_head]: same angle for every head
            q = self.hook_rot_q(q * cos + rotate_half(q) * sin)
            k = self.hook_rot_k(k * cos + rotate_half(k) * sin)
        k, v = self.share_kv(k, 2), self.share_kv(v, 2)  # [batch, pos, head, d_head]
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) * self.scale  # [batch, head, q_pos, k_pos]
        if allowed is not None:
            scores = scores.masked_fill(~allowed, float("-inf"))
        scores = self.hook_attn_scores(scores)
        pattern = torch.softmax(scores.float(), dim=-1).to(x.dtype)
        if allowed is not None:
            pattern = torch.nan_to_num(pattern, nan=0.0)  # a query with no allowed key attends nowhere
        pattern = self.hook_pattern(pattern)
        z = self.hook_z(torch.einsum("bhqk,bkhd->bqhd", pattern, v))  # [batch, q_pos, head, d_head]
        return self.o(z.reshape(batch, n_pos, self.n_heads * self.d_head))


class PretrainedMLP(nn.Module):
    """``W_out · act(W_in · x + b_in) + b_out``; gated (SwiGLU, Shazeer 2020): ``W_out (act(W_gate x) ⊙ W_in x)``.

    Hooks: ``hook_pre`` (the activation's input) [batch, pos, d_mlp], ``hook_pre_linear`` (gated only: W_in x),
    ``hook_post`` (what W_out reads). TransformerLens shapes: ``W_in``/``W_gate`` [d_model, d_mlp], ``W_out``
    [d_mlp, d_model].
    """

    def __init__(self, fc_in: tuple, fc_out: tuple, act_fn: str, gate: tuple | None = None):
        super().__init__()
        if act_fn not in ACTIVATIONS:
            raise ValueError(f"Unsupported activation {act_fn!r}; supported: {', '.join(ACTIVATIONS)}.")
        self.act_fn = act_fn
        self.fc_in, self.fc_out = frozen_linear(*fc_in), frozen_linear(*fc_out)
        self.gated = gate is not None
        self.hook_pre, self.hook_post = HookPoint(), HookPoint()
        if self.gated:
            self.gate = frozen_linear(*gate)
            self.hook_pre_linear = HookPoint()

    @property
    def in_weight(self) -> torch.Tensor:
        return self.fc_in.weight

    @property
    def out_weight(self) -> torch.Tensor:
        return self.fc_out.weight

    @property
    def gate_weight(self) -> torch.Tensor | None:
        return self.gate.weight if self.gated else None

    @property
    def W_in(self) -> torch.Tensor:
        return self.in_weight.T

    @property
    def W_out(self) -> torch.Tensor:
        return self.out_weight.T

    @property
    def W_gate(self) -> torch.Tensor | None:
        return self.gate_weight.T if self.gated else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = ACTIVATIONS[self.act_fn]
        if self.gated:
            pre = self.hook_pre(self.gate(x))  # [batch, pos, d_mlp]
            linear = self.hook_pre_linear(self.fc_in(x))
            post = self.hook_post(act(pre) * linear)
        else:
            post = self.hook_post(act(self.hook_pre(self.fc_in(x))))
        return self.fc_out(post)  # [batch, pos, d_model]


class HeadTransform(nn.Module):
    """BERT's masked-LM head before the unembedding: ``LayerNorm(act(x W + b))`` (absent in MiniLM)."""

    def __init__(self, dense: tuple, norm: Norm, act_fn: str):
        super().__init__()
        self.weight, self.bias = frozen(dense[0]), frozen(dense[1])
        self.norm, self.act_fn = norm, act_fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(ACTIVATIONS[self.act_fn](F.linear(x, self.weight, self.bias)))
