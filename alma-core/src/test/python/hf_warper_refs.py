#!/usr/bin/env python3
"""Writes ../resources/dev/alma/decode/hf-warper-refs.json: random logits and what Hugging Face transformers'
sampling warpers (TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper, in generate()'s order, keeping at
least one token) leave of them. Made with transformers 5.18.0 and torch 2.13.0+cpu."""
import json, os
import torch, transformers
from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

g = torch.Generator().manual_seed(1)
settings = [(0.7, 10, 0.9), (1.0, 0, 0.5), (1.3, 5, 0.95), (1.0, 0, 0.999), (0.5, 3, 1.0), (2.0, 0, 0.3)]
cases = []
for i in range(8):
    logits = (torch.randn(1, 50, generator=g) * (1 + i)).to(torch.float32)
    for t, k, p in settings:
        x = logits.clone()
        if t != 1.0: x = TemperatureLogitsWarper(t)(None, x)
        if k: x = TopKLogitsWarper(k)(None, x)
        if p < 1.0: x = TopPLogitsWarper(p)(None, x)
        kept = [j for j in range(50) if x[0, j].item() != float("-inf")]
        cases.append({"logits": logits[0].tolist(), "temperature": t, "top_k": k, "top_p": p,
                      "kept": kept, "values": [x[0, j].item() for j in kept]})
here = os.path.dirname(os.path.abspath(__file__))
dst = os.path.join(here, "..", "resources", "dev", "alma", "decode", "hf-warper-refs.json")
with open(dst, "w") as f:
    json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "cases": cases}, f)
print(len(cases), "cases ->", dst)
