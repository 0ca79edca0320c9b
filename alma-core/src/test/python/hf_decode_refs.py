#!/usr/bin/env python3
"""Writes ../resources/dev/alma/decode/hf-generate-refs.json: Hugging Face transformers' generate() outputs on the
two random models that HfGenerateParityTest builds with dev.alma.model.RandomCheckpoint (see that test for their
shapes and seeds). Usage: hf_decode_refs.py EOS64_DIR FLAT96_DIR (checkpoint directories written by RandomCheckpoint).
Made with transformers 5.18.0 and torch 2.13.0+cpu, float32 on the CPU."""
import itertools, json, os, sys
import torch, transformers
from transformers import LlamaForCausalLM

eos_dir, flat_dir = sys.argv[1:3]
prompts = [[1, 11, 53, 13, 61], [1, 59, 22, 19, 40, 30], [1, 5, 9, 33, 8, 17, 44], [1, 60, 3, 3, 41]]
cases = [("eos64", dict(num_beams=4, num_return_sequences=4, max_new_tokens=10, early_stopping=es, length_penalty=lp))
         for es, lp in itertools.product([False, True, "never"], [0.5, 1.0, 2.0])]
cases += [
    ("eos64", dict(num_beams=4, num_return_sequences=2, max_new_tokens=10, min_new_tokens=4)),
    ("eos64", dict(num_beams=3, num_return_sequences=3, max_new_tokens=12, repetition_penalty=1.5, no_repeat_ngram_size=2)),
    ("eos64", dict(num_beams=1, max_new_tokens=12, repetition_penalty=1.5, no_repeat_ngram_size=2, min_new_tokens=3)),
    ("flat96", dict(num_beams=5, num_return_sequences=5, max_new_tokens=16, no_repeat_ngram_size=3, length_penalty=0.7)),
    ("flat96", dict(num_beams=1, max_new_tokens=30, repetition_penalty=1.3, no_repeat_ngram_size=2)),
    ("flat96", dict(num_beams=1, max_new_tokens=30, repetition_penalty=0.8)),
]
models = {name: LlamaForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
          for name, d in (("eos64", eos_dir), ("flat96", flat_dir))}
out = []
for name, kw in cases:
    for ids in prompts:
        with torch.no_grad():
            r = models[name].generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                      do_sample=False, output_scores=True, return_dict_in_generate=True,
                                      pad_token_id=2, eos_token_id=2, top_k=None, top_p=None, temperature=None, **kw)
        seqs = []
        for s in r.sequences.tolist():
            g = s[len(ids):]
            seqs.append(g[:g.index(2) + 1] if 2 in g else g)
        scores = r.sequences_scores.tolist() if getattr(r, "sequences_scores", None) is not None else None
        out.append({"model": name, "options": kw, "prompt": ids, "sequences": seqs, "scores": scores})
here = os.path.dirname(os.path.abspath(__file__))
dst = os.path.join(here, "..", "resources", "dev", "alma", "decode", "hf-generate-refs.json")
with open(dst, "w") as f:
    json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "cases": out}, f)
print(f"{len(out)} cases -> {dst}")
