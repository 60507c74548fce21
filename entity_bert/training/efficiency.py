"""Efficiency measurements of a trained model, as the paper's Tables 4-5 report them.

- parameters (millions): every parameter the deployed model holds, the
  encoder included, also in the frozen regime; trainable ones separately;
- FLOPs (G) for one sentence of the test split's mean length, counted by
  ``torch.utils.flop_counter.FlopCounterMode`` (matrix products, attention,
  convolutions); it has no formula for fused recurrent kernels, so each LSTM
  or GRU adds its own count, 2 * gates * hidden * (input + hidden) per word
  and direction (multiply and add counted as two);
- latency (ms per sentence at batch size 1) and throughput (sentences per
  second at the evaluation batch size), on up to ``limit`` test sentences
  after a warm-up, in the process's thread setting; wall-clock figures, to be
  compared within one machine.
"""

from __future__ import annotations

import time

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from entity_bert.models.batching import Example, collate, length_batches
from entity_bert.models.tagger import Tagger

GATES = {nn.LSTM: 4, nn.GRU: 3}


def parameters(model: nn.Module) -> dict[str, float]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"parameters_m": total / 1e6, "trainable_parameters_m": trainable / 1e6}


def _recurrent_flops(model: nn.Module, words: int) -> int:
    flops = 0
    for module in model.modules():
        gates = next((g for kind, g in GATES.items() if isinstance(module, kind)), None)
        if gates:
            directions = 2 if module.bidirectional else 1
            flops += (
                2 * gates * module.hidden_size * (module.input_size + module.hidden_size) * words * directions
            )
    return flops


@torch.no_grad()
def flops_per_sentence(model: Tagger, example: Example, device: torch.device) -> float:
    """GFLOPs of one forward pass and decoding of ``example``."""
    model.eval()
    batch = {k: v.to(device) for k, v in collate([example]).items()}
    with FlopCounterMode(display=False) as counter:
        model.decode(batch)
    return (counter.get_total_flops() + _recurrent_flops(model, len(example))) / 1e9


@torch.no_grad()
def _time(model: Tagger, batches: list[list[Example]], device: torch.device) -> float:
    model.eval()
    for batch in batches[:2]:  # warm-up
        model.decode({k: v.to(device) for k, v in collate(batch).items()})
    started = time.perf_counter()
    for batch in batches:
        model.decode({k: v.to(device) for k, v in collate(batch).items()})
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def measure(
    model: Tagger, examples: list[Example], batch_size: int, device: torch.device, limit: int = 200
) -> dict:
    """Parameters, FLOPs, latency and throughput of ``model`` on (a prefix of) ``examples``."""
    sample = examples[:limit]
    mean = sum(len(e) for e in examples) / len(examples)
    typical = min(examples, key=lambda e: abs(len(e) - mean))
    singles = [[e] for e in sample]
    batched = [[sample[i] for i in b] for b in length_batches(sample, batch_size, None)]
    return {
        **parameters(model),
        "flops_g": flops_per_sentence(model, typical, device),
        "flops_sentence_words": len(typical),
        "mean_sentence_words": mean,
        "latency_ms": 1000 * _time(model, singles, device) / len(singles),
        "throughput_sentences_per_s": len(sample) / _time(model, batched, device),
        "timed_sentences": len(sample),
        "device": str(device),
        "threads": torch.get_num_threads(),
    }
