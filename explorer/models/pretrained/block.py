"""One residual block of a pretrained model, pre-LayerNorm (GPT-2, Llama) or post-LayerNorm (BERT).

Pre-LN (Xiong et al. 2020): resid_mid = resid_pre + Attn(LN1(resid_pre)); resid_post = resid_mid + MLP(LN2(resid_mid))
Post-LN (Vaswani et al. 2017, BERT), hook names as TransformerLens's BertBlock:
    resid_mid = resid_pre + Attn(resid_pre)          (``hook_resid_mid``, before LN1)
    resid_post = LN1(resid_mid) + MLP(LN1(resid_mid)) (``hook_resid_post``, before LN2)
    output = LN2(resid_post)                          (``hook_normalized_resid_post``: the next block's resid_pre)
"""

from __future__ import annotations

import torch
from torch import nn

from explorer.models.hooks import HookPoint
from explorer.models.pretrained.components import Norm, PretrainedAttention, PretrainedMLP


class PretrainedBlock(nn.Module):
    def __init__(self, attn: PretrainedAttention, mlp: PretrainedMLP, ln1: Norm, ln2: Norm, post_ln: bool):
        super().__init__()
        self.attn, self.mlp, self.ln1, self.ln2, self.post_ln = attn, mlp, ln1, ln2, post_ln
        self.hook_resid_pre, self.hook_attn_out, self.hook_resid_mid = HookPoint(), HookPoint(), HookPoint()
        self.hook_mlp_out, self.hook_resid_post = HookPoint(), HookPoint()
        if post_ln:
            self.hook_normalized_resid_post = HookPoint()

    def forward(self, resid: torch.Tensor, allowed: torch.Tensor | None = None,
                rotary: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """resid [batch, pos, d_model] -> [batch, pos, d_model]."""
        resid = self.hook_resid_pre(resid)
        if self.post_ln:
            attn_out = self.hook_attn_out(self.attn(resid, allowed, rotary))
            normed_mid = self.ln1(self.hook_resid_mid(resid + attn_out))
            mlp_out = self.hook_mlp_out(self.mlp(normed_mid))
            return self.hook_normalized_resid_post(self.ln2(self.hook_resid_post(normed_mid + mlp_out)))
        attn_out = self.hook_attn_out(self.attn(self.ln1(resid), allowed, rotary))
        resid = self.hook_resid_mid(resid + attn_out)
        mlp_out = self.hook_mlp_out(self.mlp(self.ln2(resid)))
        return self.hook_resid_post(resid + mlp_out)
