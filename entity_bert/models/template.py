"""Template-based NER (Cui, Wu, Liu, Yang and Zhang 2021), on BERT2BERT or on a BART checkpoint.

Cui et al. (2021), "Template-Based Named Entity Recognition Using BART",
Findings of ACL 2021, arXiv 2106.01760. NER becomes language-model ranking:
a sequence-to-sequence model reads the sentence X and scores filled
templates, one per class, for every candidate span x_{i:j}:

    T+_{y_k, x_{i:j}} = "<x_{i:j}> is a <y_k> entity"       one per entity type y_k
    T-_{x_{i:j}}      = "<x_{i:j}> is not a named entity"   the non-entity template

Type words are a readable form of the type name (``Laboratory_test`` ->
"laboratory test", ``cell_line`` -> "cell line").

Training (section 3.2). For each gold entity one positive template; for
randomly sampled non-entity spans of 1..``span_max_words`` words the
negative template, ``template_negatives`` (1.5, the paper's ratio) of them per
gold entity. With T = t_1..t_m a filled template, the encoder reading X and
the decoder teacher-forced on T:

    L = - sum_c log p(t_c | t_1..t_{c-1}, X)                          Eq. 1-3

Inference (section 3.3). Every span of at most ``span_max_words`` words is
scored with every template:

    f(T_{y_k, x_{i:j}}) = sum_{c=1}^{m} log p(t_c | t_1..t_{c-1}, X)   (the paper's f(T))

and takes the class of its best template; if that is T- it is no entity.
Entity spans that overlap keep the higher-scoring one (flat decoding,
:func:`.span_decoding.decode_flat`); spans become IOB2 tags
(:func:`.span_decoding.spans_to_indexes`).

Cost and how we pay it. Inference runs the decoder over (#spans x (#types
+ 1)) templates per sentence. We encode each sentence once and score all
templates of all spans that start at the same word as one *tree* in one
decoder row: ``[CLS]`` then the pieces of up to ``span_max_words`` words (the
spans' shared prefix, ending at each possible span end), and under every
span end the trie of the template continuations ("is" -> "a" -> <type>
-> "entity", "is" -> "not" -> "a" -> "named" -> "entity"). A 4D attention
mask lets each token see exactly its ancestors and position ids continue
from the span's end, so every template is scored exactly as if it were
decoded alone, while the span and "<span> is" are computed once; the
vocabulary projection runs only at positions that have children, and the
leaves (each template's last piece) are scored from their parents without
being read by the decoder. This is exact (no approximation), but still costs
about (#spans x trie size) decoder tokens per sentence: about 100 GFLOPs for
an ncbi-disease sentence of 32 words with ``span_max_words`` 10. Training
packs a sentence's filled templates into one such tree too
(:func:`target_tree`): its encoder states are read once per sentence and
shared prefixes decoded once, the loss unchanged.

Deviations from the paper, and why:
- No BART weights here. By default the sequence-to-sequence model is
  BERT2BERT (Rothe, Narayan and Severyn 2020): the encoder is the shared pretrained encoder
  (``source.word_encoder.encoder``), the decoder a ``BertLMHeadModel``
  (causal, with cross-attention) warm-started from the same checkpoint; its
  cross-attention (and the MLM head's transform, which sentence-transformer
  checkpoints lack) starts random; its output layer is tied to its own word
  embeddings. For ``tiny-random`` the decoder is a random BERT of the
  encoder's shape. Decoder and encoder share the encoder's (uncased
  WordPiece) tokenizer.
- With a BART checkpoint (``template_decoder``, a local folder or hub name,
  for users who have one) the model is the paper's: the checkpoint's encoder
  reads the sentence and its decoder, output layer and final logits bias
  score the templates (:class:`Seq2SeqTemplateNER`). The batches carry word
  pieces of the run's encoder tokenizer, so the run's encoder must be that
  same checkpoint (``EncoderSpec.name == template_decoder``; otherwise a
  ``ValueError`` names both): its tokenizer then splits the sentence, and
  :func:`..encoder.load_encoder` gives the checkpoint's encoder as the
  shared encoder (parameters ``source.word_encoder.*``, so the encoder
  learning rate and frozen checkpoints treat it like any encoder). The
  decoder reads ``decoder_start_token_id`` (then the tokenizer's BOS, if it
  has one: BART's "</s> <s>") before the template, as in BART fine-tuning.
  Its encoder and decoder embeddings, tied in BART, become two copies of the
  same matrix (as in BERT2BERT, and so that a frozen encoder leaves the
  decoder trainable). Templates are scored exactly but plainly: each filled
  template decoded on its own (padded batches of ``TOKENS_PER_PASS`` tokens),
  f(T) the sum of its pieces' log-probabilities; the prefix tree above is
  BERT-specific (4D masks, position ids). Template words are split into
  pieces like the sentence's words, so BPE leading spaces agree. Tested
  with a tiny random ``BartForConditionalGeneration`` (with a WordPiece
  tokenizer, as no BART tokenizer files are available offline).
- Templates end without an end-of-sequence token (training and scoring
  alike), which keeps the trie one token shorter per template.
- Negatives are sampled per batch (uniformly among its sentences' non-entity
  spans, from torch's RNG; at least one per batch) rather than once per
  corpus, so that the ratio holds in every batch and entity-free sentences
  are seen too. Gold entities longer than ``span_max_words`` still give
  positive templates in training, but cannot be predicted.
- A sentence longer than one encoder window is read as the concatenation of
  its windows' piece states (overlapping pieces twice).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import AutoModelForSeq2SeqLM, BertConfig, BertLMHeadModel, PreTrainedTokenizerBase

from entity_bert.data.iob2 import tag_types
from entity_bert.models.batching import pad
from entity_bert.models.config import TINY_RANDOM, EncoderSpec
from entity_bert.models.encoder import checkpoint_path, load_tokenizer, word_pieces
from entity_bert.models.span_decoding import Span, candidate_spans, decode_flat, gold_spans, spans_to_indexes
from entity_bert.models.tagger import EncoderSource, NERModel

TOKENS_PER_PASS = 2048  # decoder tokens per forward pass at inference (bounds memory)


# ---------------------------------------------------------------------------------------------- templates


def type_words(name: str) -> str:
    """A readable type name: ``Laboratory_test`` -> "laboratory test", ``CellLine`` -> "cell line"."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return " ".join(re.split(r"[_\-\s]+", spaced)).strip().lower()


def template_texts(span: str, types: list[str]) -> list[str]:
    """The filled templates of a span: one positive per type, then the negative one."""
    positives = [f"{span} is a {type_words(t)} entity" for t in types]
    return [*positives, f"{span} is not a named entity"]


def template_continuations(tokenizer: PreTrainedTokenizerBase, types: list[str]) -> list[list[int]]:
    """Piece ids of each template after its span ("is a <type> entity", ..., "is not a named entity").

    Its words are split into pieces the way the sentence's words are (:func:`..encoder.encode_sentence`), so
    that a span's pieces and the continuation's join consistently (with a BPE tokenizer: the same
    leading-space convention).
    """
    texts = [text[len("X ") :].split() for text in template_texts("X", types)]
    return [[piece for word in word_pieces(tokenizer, words) for piece in word] for words in texts]


@dataclass
class Trie:
    """The template continuations as a prefix tree: shared first tokens are decoded once."""

    tokens: list[int] = field(default_factory=list)  # node -> piece id
    parents: list[int] = field(default_factory=list)  # node -> parent node; -1: the span's last piece
    depths: list[int] = field(default_factory=list)  # node -> distance from the span's last piece
    paths: list[list[int]] = field(default_factory=list)  # template -> its nodes, in order

    @classmethod
    def build(cls, templates: list[list[int]]) -> Trie:
        trie, index = cls(), {}
        for template in templates:
            parent, path = -1, []
            for token in template:
                if (parent, token) not in index:
                    index[parent, token] = len(trie.tokens)
                    trie.tokens.append(token)
                    trie.parents.append(parent)
                    trie.depths.append(1 + (trie.depths[parent] if parent >= 0 else 0))
                parent = index[parent, token]
                path.append(parent)
            trie.paths.append(path)
        return trie


# ------------------------------------------------------------------------------------ batches to pieces


def sentence_pieces(batch: dict[str, Tensor]) -> list[list[list[int]]]:
    """Each sentence's words as their piece ids, read from the batch's windows."""
    flat = batch["input_ids"].flatten().tolist()
    lengths = batch["mask"].sum(dim=1).tolist()
    starts, counts = batch["word_index"].tolist(), batch["word_pieces"].tolist()
    return [
        [flat[s : s + c] for s, c in zip(starts[b][:n], counts[b][:n], strict=True)]
        for b, n in enumerate(lengths)
    ]


def span_text_pieces(words: list[list[int]], first: int, end: int) -> list[int]:
    """The pieces of words ``first..end-1``."""
    return [piece for word in words[first:end] for piece in word]


def ancestor_mask(parents: Tensor) -> Tensor:
    """[R, T, T] bool: token t may attend to token a iff a is t or an ancestor of t (pointer jumping).

    ``parents`` [R, T] holds each token's parent position, -1 for roots and padding.
    """
    rows, length = parents.shape
    positions = torch.arange(length, device=parents.device).expand(rows, length)
    jump = torch.where(parents < 0, positions, parents)
    mask = torch.eye(length, dtype=torch.bool, device=parents.device) | F.one_hot(jump, length).bool()
    for _ in range(max(1, math.ceil(math.log2(length)))):
        mask = mask | mask.gather(1, jump.unsqueeze(2).expand(rows, length, length))
        jump = jump.gather(1, jump)
    return mask


# ------------------------------------------------------------------------------------------- the model


@dataclass
class TreeRow:
    """One decoder row: the spans starting at one word, and the template trie under each span end."""

    sentence: int
    ids: list[int]
    positions: list[int]
    parents: list[int]
    spans: list[tuple[int, int]]  # (first, end) of each span scored in this row
    ends: list[int]  # position of each span's last piece
    paths: list[list[int]]  # per (span, template): its trie nodes' positions in this row


def tree_rows(
    sentence: int, words: list[list[int]], trie: Trie, max_words: int, start_id: int
) -> list[TreeRow]:
    """The rows that score every span of ``words`` of at most ``max_words`` words (one row per start)."""
    rows = []
    for first in range(len(words)):
        ids, positions, parents = [start_id], [0], [-1]
        spans, ends = [], []
        for end in range(first + 1, min(first + max_words, len(words)) + 1):
            for piece in words[end - 1]:
                parents.append(len(ids) - 1)
                positions.append(len(ids))
                ids.append(piece)
            spans.append((first, end))
            ends.append(len(ids) - 1)
        paths = []
        for last in ends:
            base = len(ids)
            ids += trie.tokens
            parents += [last if p < 0 else base + p for p in trie.parents]
            positions += [last + d for d in trie.depths]
            paths += [[base + node for node in path] for path in trie.paths]
        rows.append(TreeRow(sentence, ids, positions, parents, spans, ends, paths))
    return rows


@dataclass
class TargetTree:
    """One training row: a sentence's filled templates as one prefix tree under the start token."""

    sentence: int
    ids: list[int]
    positions: list[int]
    parents: list[int]
    weights: list[int]  # node -> how many of the targets run through it (the root: none)


def target_tree(sentence: int, targets: list[list[int]], start_id: int) -> TargetTree:
    """The targets (span pieces + template) of one sentence as a prefix tree; shared prefixes once."""
    tree, index = TargetTree(sentence, [start_id], [0], [-1], [0]), {}
    for target in targets:
        node = 0
        for token in target:
            if (node, token) not in index:
                index[node, token] = len(tree.ids)
                tree.ids.append(token)
                tree.parents.append(node)
                tree.positions.append(tree.positions[node] + 1)
                tree.weights.append(0)
            node = index[node, token]
            tree.weights[node] += 1
    return tree


def inner_nodes(parents: Tensor, has_children: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The nodes the decoder must read (roots and nodes with children), first in each row, in order.

    ``parents`` [R, T] (-1: a root or padding), ``has_children`` [R, T], ``lengths`` [R] real nodes
    per row. Returns ``order`` [R, T'] (the node at each input position: the read nodes, then others
    as filler), ``moved`` [R, T] (each node's input position, -1 if it has none) and the input's
    parents [R, T'] (-1 for roots and fillers, which then attend to themselves only).
    """
    real = torch.arange(parents.shape[1], device=parents.device) < lengths[:, None]
    read = real & (has_children | (parents < 0))
    order = torch.sort((~read).to(torch.uint8), dim=1, stable=True).indices[:, : int(read.sum(1).max())]
    moved = torch.full_like(parents, -1)
    moved.scatter_(1, order, torch.arange(order.shape[1], device=parents.device).expand_as(order))
    inner = parents.gather(1, order)
    inner = torch.where((inner >= 0) & read.gather(1, order), moved.gather(1, inner.clamp(min=0)), -1)
    return order, moved, inner


def _pad(rows: list[list[int]], value: int, device: torch.device) -> Tensor:
    return pad(rows, value).to(device)


def choose_spans(spans: list[tuple[int, int]], scores: Tensor, types: list[str]) -> list[Span]:
    """Each span's best template (the last column is the negative one), then flat decoding.

    ``scores`` [spans, types + 1] are the templates' f(T).
    """
    best, which = scores.max(dim=1)
    entities = [
        (score, (first, end, types[k]))
        for (first, end), score, k in zip(spans, best.tolist(), which.tolist(), strict=True)
        if k < len(types)
    ]
    return decode_flat(entities)


class TemplateNER(NERModel):
    """BERT2BERT template scoring over candidate spans (Cui et al. 2021)."""

    def __init__(
        self,
        source: EncoderSource,
        decoder: nn.Module,
        tokenizer: PreTrainedTokenizerBase,
        tags: list[str],
        span_max_words: int,
        negatives: float,
    ) -> None:
        super().__init__()
        self.source, self.decoder = source, decoder
        self.tags = tags
        self.types = tag_types(tags)
        self.templates = template_continuations(tokenizer, self.types)  # the last one is negative
        self.trie = Trie.build(self.templates)
        self.start_id = tokenizer.cls_token_id  # the decoder's start token (BERT2BERT)
        self.prompt = [self.start_id]  # the decoder's given (unscored) first tokens
        self.span_max_words = span_max_words
        self.negatives = negatives

    # -- encoder

    def memory(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """Each sentence's encoder piece states [B, L, d] (its windows concatenated) and their mask."""
        ids, attention = batch["input_ids"], batch["attention_mask"].bool()
        states = self.source.word_encoder.encoder(input_ids=ids, attention_mask=attention.long())
        states = states.last_hidden_state
        width = ids.shape[1]
        lengths = batch["mask"].sum(dim=1).tolist()
        per_sentence = []
        for b, index in enumerate(batch["word_index"].tolist()):
            windows = sorted({i // width for i in index[: lengths[b]]})
            per_sentence.append(torch.cat([states[w][attention[w]] for w in windows]))
        longest = max(s.shape[0] for s in per_sentence)
        memory = states.new_zeros(len(per_sentence), longest, states.shape[-1])
        mask = torch.zeros(len(per_sentence), longest, dtype=torch.bool, device=ids.device)
        for b, s in enumerate(per_sentence):
            memory[b, : s.shape[0]], mask[b, : s.shape[0]] = s, True
        return memory, mask

    @property
    def decoder_body(self) -> nn.Module:
        """The decoder's transformer stack, without its output layer."""
        return self.decoder.bert

    def decoder_states(self, ids: Tensor, attention: Tensor, memory: Tensor, memory_mask: Tensor) -> Tensor:
        """Decoder states [N, T, d] of ``ids`` [N, T], each row reading its sentence's ``memory``."""
        return self.decoder_body(
            input_ids=ids,
            attention_mask=attention,
            encoder_hidden_states=memory,
            encoder_attention_mask=memory_mask.long(),
        ).last_hidden_state

    def log_probs(self, hidden: Tensor) -> Tensor:
        """log p(next piece) from decoder states [N, d] (fp32), by the output layer tied to the embeddings."""
        head = self.decoder.cls.predictions
        embeddings = self.decoder.bert.embeddings.word_embeddings.weight
        return F.linear(head.transform(hidden), embeddings, head.bias).float().log_softmax(dim=-1)

    def teacher_forced(
        self, examples: list[tuple[int, list[int]]], memory: Tensor, memory_mask: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Teacher forcing of (sentence, target pieces) pairs: the decoder reads ``prompt + target[:-1]``.

        Returns, flat over all target tokens: log p(next piece) [K, vocab], the target piece ids [K] and
        the index of the pair each token belongs to [K].
        """
        device, given = memory.device, len(self.prompt)
        targets = [target for _, target in examples]
        inputs = _pad([[*self.prompt, *t[:-1]] for t in targets], 0, device)
        attention = _pad([[1] * (given + len(t) - 1) for t in targets], 0, device)
        labels = _pad([[-100] * (given - 1) + t for t in targets], -100, device)
        sentence = torch.tensor([b for b, _ in examples], device=device)
        hidden = self.decoder_states(inputs, attention, memory[sentence], memory_mask[sentence])
        scored = labels != -100
        return self.log_probs(hidden[scored]), labels[scored], scored.nonzero()[:, 0]

    # -- training

    def training_spans(self, batch: dict[str, Tensor]) -> list[tuple[int, int, int, int]]:
        """(sentence, first, end, template) of the gold entities and of sampled non-entity spans."""
        chosen, negatives = [], []
        lengths = batch["mask"].sum(dim=1).tolist()
        for b, labels in enumerate(batch["labels"].tolist()):
            gold = gold_spans(labels, self.tags)
            chosen += [(b, first, end, self.types.index(kind)) for first, end, kind in gold]
            entities = {(first, end) for first, end, _ in gold}
            negatives += [
                (b, first, end, len(self.types))
                for first, end in candidate_spans(lengths[b], self.span_max_words)
                if (first, end) not in entities
            ]
        wanted = min(len(negatives), max(1, round(self.negatives * len(chosen))))
        picked = torch.randperm(len(negatives))[:wanted].tolist()  # torch's global RNG
        return chosen + [negatives[i] for i in sorted(picked)]

    def training_targets(self, batch: dict[str, Tensor]) -> list[tuple[int, list[int]]]:
        """(sentence, span pieces + template pieces) of every filled template the batch trains on."""
        words = sentence_pieces(batch)
        return [
            (b, span_text_pieces(words[b], first, end) + self.templates[k])
            for b, first, end, k in self.training_spans(batch)
        ]

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Teacher-forced cross-entropy of the filled templates, given each sentence (Eq. 1-3).

        The mean over all target tokens of -log p(t_c | t_1..t_{c-1}, X). A sentence's targets are
        decoded as one prefix tree (:func:`target_tree`, the 4D-mask trick of inference): the
        sentence's encoder states are read once rather than once per template, and a token shared by
        several targets' prefixes is decoded once and counted once for each of them.
        """
        memory, memory_mask = self.memory(batch)
        targets: list[list[list[int]]] = [[] for _ in range(memory.shape[0])]
        for b, target in self.training_targets(batch):
            targets[b].append(target)
        trees = [target_tree(b, t, self.start_id) for b, t in enumerate(targets) if t]
        trees.sort(key=lambda tree: len(tree.ids))  # passes of like lengths: little padding
        total, count = memory.new_zeros((), dtype=torch.float32), 0
        for chunk in _chunks(trees, [len(tree.ids) for tree in trees]):
            weights = _pad([tree.weights for tree in chunk], 0, memory.device)
            total = total - (self.node_log_probs(chunk, memory, memory_mask) * weights).sum()
            count += int(weights.sum())
        return total / count

    # -- inference

    def template_scores(self, batch: dict[str, Tensor]) -> list[tuple[list[tuple[int, int]], Tensor]]:
        """For each sentence: its candidate spans and their templates' f(T) [spans, types + 1]."""
        memory, memory_mask = self.memory(batch)
        words = sentence_pieces(batch)
        rows = [
            row
            for b, sentence in enumerate(words)
            for row in tree_rows(b, sentence, self.trie, self.span_max_words, self.start_id)
        ]
        chunks = _chunks(rows, [len(row.ids) for row in rows])
        scores = [self.score_rows(chunk, memory, memory_mask) for chunk in chunks]
        flat = torch.cat(scores).view(-1, len(self.templates)) if scores else memory.new_zeros(0, 1)
        results, offset = [], 0
        for b in range(len(words)):
            spans = [span for row in rows if row.sentence == b for span in row.spans]
            results.append((spans, flat[offset : offset + len(spans)]))
            offset += len(spans)
        return results

    def score_rows(self, rows: list[TreeRow], memory: Tensor, memory_mask: Tensor) -> Tensor:
        """f(T) of every (span, template) of ``rows``, in their order."""
        device = memory.device
        token = self.node_log_probs(rows, memory, memory_mask)
        # f(T) = the span's pieces (a prefix sum) + the template's trie path
        prefix = token.cumsum(dim=1)
        token = F.pad(token, (0, 1))  # a zero column for padded paths
        items = [(k, last) for k, r in enumerate(rows) for last in r.ends for _ in self.templates]
        item_row = torch.tensor([k for k, _ in items], device=device)
        item_last = torch.tensor([last for _, last in items], device=device)
        paths = _pad([p for r in rows for p in r.paths], token.shape[1] - 1, device)
        return prefix[item_row, item_last] + token[item_row.unsqueeze(1), paths].sum(dim=1)

    def node_log_probs(
        self, rows: list[TreeRow] | list[TargetTree], memory: Tensor, memory_mask: Tensor
    ) -> Tensor:
        """log p(token | its ancestors, X) of every node of the rows [R, T] (0 at roots and padding).

        A node's log-probability is read from its parent's next-piece distribution, so the decoder
        reads only the roots and the nodes with children; the leaves (each template's last piece) are
        left out of its input, which the ancestor mask and explicit positions allow.
        """
        device = memory.device
        ids = _pad([r.ids for r in rows], 0, device)
        parents = _pad([r.parents for r in rows], -1, device)
        positions = _pad([r.positions for r in rows], 0, device)
        rows_index = torch.arange(len(rows), device=device).unsqueeze(1).expand_as(parents)
        scored = parents >= 0
        has_children = torch.zeros_like(ids, dtype=torch.bool)
        has_children[rows_index[scored], parents[scored]] = True
        lengths = torch.tensor([len(r.ids) for r in rows], device=device)
        order, moved, inner_parents = inner_nodes(parents, has_children, lengths)
        sentence = torch.tensor([r.sentence for r in rows], device=device)
        hidden = self.decoder.bert(
            input_ids=ids.gather(1, order),
            attention_mask=ancestor_mask(inner_parents).unsqueeze(1),
            position_ids=positions.gather(1, order),
            encoder_hidden_states=memory[sentence],
            encoder_attention_mask=memory_mask[sentence].long(),
        ).last_hidden_state
        log_probs = self.log_probs(hidden[rows_index[has_children], moved[has_children]])
        slot = has_children.flatten().cumsum(0).view_as(ids) - 1
        token = torch.zeros(ids.shape, device=device)
        token[scored] = log_probs[slot[rows_index[scored], parents[scored]], ids[scored]]
        return token

    def decode(self, batch: dict[str, Tensor]) -> list[list[int]]:
        lengths = batch["mask"].sum(dim=1).tolist()
        return [
            spans_to_indexes(n, choose_spans(spans, scores, self.types), self.tags)
            for n, (spans, scores) in zip(lengths, self.template_scores(batch), strict=True)
        ]


def _chunks(rows: list, lengths: list[int]) -> list[list]:
    """Consecutive rows whose padded size stays within ``TOKENS_PER_PASS`` (at least one row each)."""
    chunks, current, width = [], [], 0
    for row, length in zip(rows, lengths, strict=True):
        width_with = max(width, length)
        if current and width_with * (len(current) + 1) > TOKENS_PER_PASS:
            chunks.append(current)
            current, width_with = [], length
        current.append(row)
        width = width_with
    return [*chunks, current] if current else chunks


class Seq2SeqTemplateNER(TemplateNER):
    """Template scoring with a sequence-to-sequence checkpoint (BART): the encoder's own decoder and head.

    The sentence encoder is ``source.word_encoder.encoder`` (the checkpoint's encoder, loaded by
    :func:`..encoder.load_encoder`); this module keeps the checkpoint's decoder, its output layer and
    its final logits bias. Templates are scored one by one (no prefix tree).
    """

    def __init__(
        self,
        source: EncoderSource,
        seq2seq: nn.Module,
        tokenizer: PreTrainedTokenizerBase,
        tags: list[str],
        span_max_words: int,
        negatives: float,
    ) -> None:
        decoder, head = seq2seq.get_decoder(), seq2seq.get_output_embeddings()
        super().__init__(source, decoder, tokenizer, tags, span_max_words, negatives)
        # a head tied to the decoder's embeddings is applied from them, so checkpoints hold the matrix once
        self.lm_head = None if head.weight is decoder.embed_tokens.weight else head
        bias = getattr(seq2seq, "final_logits_bias", None)
        vocabulary = decoder.embed_tokens.weight.shape[0]
        self.register_buffer("logits_bias", torch.zeros(vocabulary) if bias is None else bias.flatten())
        # decoder_start_token_id, then BOS where the tokenizer frames texts with one (BART: "</s> <s>")
        bos = [] if tokenizer.bos_token_id is None else [tokenizer.bos_token_id]
        self.prompt = [seq2seq.config.decoder_start_token_id, *bos]

    @property
    def decoder_body(self) -> nn.Module:
        return self.decoder

    def log_probs(self, hidden: Tensor) -> Tensor:
        weight = self.decoder.embed_tokens.weight if self.lm_head is None else self.lm_head.weight
        return (F.linear(hidden, weight) + self.logits_bias).float().log_softmax(dim=-1)

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Teacher-forced cross-entropy of the filled templates (Eq. 1-3), each template decoded alone."""
        memory, memory_mask = self.memory(batch)
        log_probs, labels, _ = self.teacher_forced(self.training_targets(batch), memory, memory_mask)
        return F.nll_loss(log_probs, labels)

    def template_scores(self, batch: dict[str, Tensor]) -> list[tuple[list[tuple[int, int]], Tensor]]:
        """For each sentence: its candidate spans and their templates' f(T), each template decoded alone."""
        memory, memory_mask = self.memory(batch)
        words = sentence_pieces(batch)
        spans = [candidate_spans(len(pieces), self.span_max_words) for pieces in words]
        examples = [
            (b, span_text_pieces(words[b], first, end) + template)
            for b in range(len(words))
            for first, end in spans[b]
            for template in self.templates
        ]
        chunks = _chunks(examples, [len(self.prompt) + len(target) for _, target in examples])
        scores = [self.target_scores(chunk, memory, memory_mask) for chunk in chunks]
        flat = torch.cat(scores) if scores else memory.new_zeros(0)
        per_sentence = flat.split([len(s) * len(self.templates) for s in spans])
        return [(s, f.view(len(s), len(self.templates))) for s, f in zip(spans, per_sentence, strict=True)]

    def target_scores(
        self, examples: list[tuple[int, list[int]]], memory: Tensor, memory_mask: Tensor
    ) -> Tensor:
        """f(T) of each (sentence, target): the sum of its pieces' log-probabilities."""
        log_probs, labels, owner = self.teacher_forced(examples, memory, memory_mask)
        token = log_probs.gather(1, labels.unsqueeze(1)).squeeze(1)
        return token.new_zeros(len(examples)).index_add_(0, owner, token)


def build_decoder(source: EncoderSource, encoder: EncoderSpec) -> BertLMHeadModel:
    """A causal BERT with cross-attention, warm-started from the encoder's checkpoint (BERT2BERT).

    Its output layer is its word embedding matrix (tied, as in BERT); the tied copy inside the MLM head
    is removed so that checkpoints (safetensors) hold the matrix once, and :meth:`TemplateNER.log_probs`
    applies it directly.
    """
    settings = {"is_decoder": True, "add_cross_attention": True, "attn_implementation": "sdpa"}
    if encoder.name == TINY_RANDOM:
        config = source.word_encoder.encoder.config.to_dict()
        decoder = BertLMHeadModel(BertConfig(**{**config, "is_decoder": True, "add_cross_attention": True}))
    else:
        decoder = BertLMHeadModel.from_pretrained(checkpoint_path(encoder), **settings)
    del decoder.cls.predictions.decoder
    return decoder


def load_seq2seq(folder: str, encoder: EncoderSpec) -> nn.Module:
    """The seq2seq checkpoint ``template_decoder``, which must also be the run's encoder.

    The batches hold word pieces of the encoder's tokenizer, and the checkpoint's decoder reads its own
    vocabulary, so both must be the one checkpoint (and its tokenizer).
    """
    if Path(folder).resolve() != Path(checkpoint_path(encoder)).resolve():
        raise ValueError(
            f"template_decoder {folder!r} must also be the run's encoder, which is {encoder.name!r}: "
            f"the sentence is read with the checkpoint's own tokenizer (set the encoder name to {folder!r})"
        )
    return AutoModelForSeq2SeqLM.from_pretrained(folder)


def build(config, tags: list[str], source: EncoderSource, encoder: EncoderSpec) -> TemplateNER:
    """The model, from the shared encoder source (``registry.build_tagger`` calls this)."""
    settings = (load_tokenizer(encoder), tags, config.span_max_words, config.template_negatives)
    if config.template_decoder is not None:
        return Seq2SeqTemplateNER(source, load_seq2seq(config.template_decoder, encoder), *settings)
    return TemplateNER(source, build_decoder(source, encoder), *settings)
