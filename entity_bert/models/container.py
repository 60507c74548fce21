"""CONTaiNER: Gaussian token embeddings, a KL contrastive loss, nearest-neighbour labelling.

Das, Katiyar, Passonneau and Zhang (2022), "CONTaiNER: Few-Shot Named Entity
Recognition via Contrastive Learning", ACL 2022, arXiv 2109.07589, section 3
(its equations are numbered (1)-(4) here). For a word i with encoder state h_i
(``source(batch)``, the first word piece's state):

    mu_i    = f_mu(h_i),   Sigma_i = diag(ELU(f_Sigma(h_i)) + (1 + eps))        (1)
              f = ReLU followed by one linear layer of size container_dim ("ReLU followed
              by single layer networks"; the authors' code also puts dropout on h)

The distance of two tokens is the symmetric KL divergence of their Gaussians
(2); for diagonal Gaussians with variances s_p, s_q in R^l (a_p = 1/s_p):

    KL(N_q || N_p) = 1/2 [ sum_k s_q,k / s_p,k + sum_k (mu_p,k - mu_q,k)^2 / s_p,k - l
                           + sum_k log s_p,k - sum_k log s_q,k ]
    d(p, q) = 1/2 (KL(N_q || N_p) + KL(N_p || N_q))
            = 1/4 sum_k [ s_q,k/s_p,k + s_p,k/s_q,k + (mu_p,k - mu_q,k)^2 (a_p,k + a_q,k) ] - l/2

(the log-determinants cancel), which expands into a few matrix products, so
all pairs of a batch cost O(N^2 l) without an [N, N, l] tensor. The loss of a
token p among the batch's tokens X, with X_p the other tokens of its tag:

    l(p) = -log( [sum_{q in X_p} exp(-d(p, q)) / |X_p|] / sum_{q in X, q != p} exp(-d(p, q)) )   (3)
    L    = mean of l(p) over the tokens p with a non-empty X_p                                 (4)

computed with logsumexp over the whole batch (all its sentences), padding
masked out.

Inference (section 3.5, instance-level nearest neighbour). The support set
is the training data; every test token takes the tag of its nearest support
token. Emissions for decoding are the negated nearest distances per tag,
e_t(i) = -min_{s in support, tag(s) = t} dist(i, s), and the tags come from
constrained Viterbi (:class:`.crf.CRF`, zero transitions, IOB2 hard
constraints): the nearest neighbour's tag wherever that is valid IOB2, and
the best valid sequence where it is not. Which representation is compared:

- finetune: the paper's choice, the encoder states h before the projection,
  L2-normalised, squared Euclidean distance (the authors' code's
  ``euclidean_hidden_state``, which normalises);
- frozen: the encoder states never change there, so nearest neighbours over h
  would ignore training altogether; we compare the trained Gaussians with the
  trained distance d (the authors' code's ``KL`` criterion).

The support set, as buffers of the model (so they are saved with every
checkpoint and the best epoch's support is the one used on test): its token
vectors in fp16 and their tags. ``fit_support`` rebuilds it before every dev
evaluation (the engine calls it). It holds at most ``SUPPORT_MAX_TOKENS``
tokens: past that, whole sentences are drawn at random until the cap, so
the tag proportions (which a nearest-neighbour rule is sensitive to) stay
those of the data; a cap per tag would over-represent the rare tags. On
maccrobat2020 (70.5k training tokens) that is about 46% of the tokens, on
ncbi-disease (136k) 24%; the search is then about 32k x (dev tokens) distances
per evaluation, done in chunks. The draw uses a ``torch.Generator`` seeded
from the run's seed (``torch.initial_seed()``), so the support sentences are
the same at every epoch and the training's random stream is untouched.

Few-shot setting (``config.container_shots = K``): the support set is a K-shot
sample of the training split by the greedy sampling of Yang and Katiyar
(2020, "Simple and Effective Few-Shot NER with Structured Nearest Neighbor
Learning", Algorithm 1): types in increasing frequency, sentences with the
type drawn until it has K entities, then sentences that are not needed for
any type dropped. Only the labelling is few-shot: the engine still trains
the model on the whole training split. The paper instead trains on
source-domain classes, fine-tunes on the K-shot support set of the unseen
target classes (its "Gaussian embedding fine-tuning" step) and averages over
several sampled support sets; none of that is reproduced here. With
``container_shots = None`` (the default) we are in the supervised setting
that the Entity-BERT paper compares against.

Deviations from the paper and the authors' code, and why:
- IOB2 tags are the contrastive classes (B-X and I-X apart); the authors merge
  B and I into IO tags. IOB2 classes let the nearest neighbour mark where an
  entity starts, which IO cannot do for adjacent entities of one type.
- Decoding: the paper follows StructShot (Yang and Katiyar 2020) with a CRF
  whose abstract transitions are estimated on the source domain and tempered;
  we have no source domain and keep only the IOB2 hard constraints (zero
  transition scores), which make the output valid IOB2.
- Every token is an anchor p in (3), as the paper writes it; the authors'
  code by default skips anchors tagged O (``consider_mutual_O`` off).
- eps: the paper's ~e^-14 vanishes when added to 1 in fp32; we use 1e-6 so that
  a saturated ELU (-1) cannot give a zero variance.
"""

from __future__ import annotations

from collections import Counter

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from entity_bert.models.batching import Example, collate, length_batches
from entity_bert.models.crf import CRF
from entity_bert.models.decoding import argmax_tags
from entity_bert.models.tagger import NERModel

EPS = 1e-6  # variance floor above 1 (the paper's eps)
SUPPORT_MAX_TOKENS = 32768  # largest support set kept (whole sentences drawn at random past it)
CHUNK = 4096  # support tokens compared with a batch's tokens at once
NO_SUPPORT = 1e4  # distance standing in for a tag with no support token (finite, for Viterbi)


def symmetric_kl(mu_p: Tensor, var_p: Tensor, mu_q: Tensor, var_q: Tensor) -> Tensor:
    """d(p, q) of (2) for every p (rows, [P, l]) and q (columns, [Q, l]) of diagonal Gaussians: [P, Q]."""
    inv_p, inv_q = 1 / var_p, 1 / var_q
    # sum_k [s_q/s_p + s_p/s_q + (mu_p - mu_q)^2 (1/s_p + 1/s_q)], its cross terms as one matrix product
    left = torch.cat([inv_p, var_p + mu_p.square(), mu_p * inv_p, mu_p], dim=1)
    right = torch.cat([var_q + mu_q.square(), inv_q, -2 * mu_q, -2 * mu_q * inv_q], dim=1)
    terms = left @ right.T + (mu_p.square() * inv_p).sum(1, keepdim=True) + (mu_q.square() * inv_q).sum(1)
    return (terms / 4 - mu_p.shape[1] / 2).clamp(min=0)


def contrastive_loss(mu: Tensor, var: Tensor, labels: Tensor) -> Tensor:
    """(3)-(4) over the N tokens of a batch (``mu``, ``var`` [N, l], gold ``labels`` [N])."""
    n = len(labels)
    others = ~torch.eye(n, dtype=torch.bool, device=labels.device)
    same = (labels.unsqueeze(1) == labels.unsqueeze(0)) & others
    anchors = same.any(1)  # tokens with a non-empty X_p
    if not bool(anchors.any()):
        return mu.sum() * 0.0
    score = -symmetric_kl(mu[anchors], var[anchors], mu, var)  # -d(p, q)
    same, others = same[anchors], others[anchors]
    positive = score.masked_fill(~same, float("-inf")).logsumexp(1) - same.sum(1).log()
    total = score.masked_fill(~others, float("-inf")).logsumexp(1)
    return (total - positive).mean()


def unit_distance(queries: Tensor, support: Tensor) -> Tensor:
    """Squared Euclidean distance of L2-normalised vectors, 2 - 2 cos: [Q, S]."""
    return (2 - 2 * queries @ support.T).clamp(min=0)


def gaussian_distance(queries: Tensor, support: Tensor) -> Tensor:
    """d(p, q) of vectors holding [mu; variance] side by side: [Q, S]."""
    mu_p, var_p = queries.chunk(2, dim=1)
    mu_q, var_q = support.chunk(2, dim=1)
    return symmetric_kl(mu_p, var_p, mu_q, var_q)


def nearest_by_tag(queries: Tensor, support: Tensor, support_tags: Tensor, num_tags: int, distance) -> Tensor:
    """For each query and tag, its distance to the nearest support token of that tag: [Q, T].

    ``NO_SUPPORT`` where the support has no token of the tag. The support is
    compared in chunks of ``CHUNK`` tokens, in fp32.
    """
    best = queries.new_full((len(queries), num_tags), NO_SUPPORT, dtype=torch.float32)
    queries = queries.float()
    for start in range(0, len(support), CHUNK):
        chunk = support[start : start + CHUNK].to(queries.device, torch.float32)
        d = distance(queries, chunk)
        tags = support_tags[start : start + CHUNK].to(queries.device).expand_as(d)
        best.scatter_reduce_(1, tags, d, reduce="amin")
    return best


def few_shot_sample(sentence_tags: list[list[str]], shots: int, generator: torch.Generator) -> list[int]:
    """Indexes of a K-shot support set: every type has at least ``shots`` entities (or all it has).

    Yang and Katiyar (2020), Algorithm 1: for each type in increasing order of
    frequency, add randomly drawn sentences that contain it until it has
    ``shots`` entities; then drop, in order, every sentence without which all
    types still have enough.
    """
    entities = [Counter(tag[2:] for tag in tags if tag.startswith("B-")) for tags in sentence_tags]
    available = sum(entities, Counter())
    needed = {kind: min(shots, count) for kind, count in available.items()}
    order = torch.randperm(len(sentence_tags), generator=generator).tolist()
    chosen: dict[int, None] = {}  # in the order drawn
    counts: Counter = Counter()
    for kind in sorted(available, key=lambda k: (available[k], k)):
        for i in order:
            if counts[kind] >= needed[kind]:
                break
            if entities[i][kind] and i not in chosen:
                chosen[i] = None
                counts.update(entities[i])
    for i in list(chosen):
        if all(counts[kind] - n >= needed[kind] for kind, n in entities[i].items()):
            del chosen[i]
            counts.subtract(entities[i])
    return sorted(chosen)


class Container(NERModel):
    """Encoder -> Gaussian embeddings (training); nearest support token + constrained Viterbi (decoding)."""

    def __init__(
        self, source: nn.Module, tags: list[str], dim: int, dropout: float, shots: int | None = None
    ) -> None:
        super().__init__()
        self.source, self.tags, self.shots = source, list(tags), shots
        size = source.output_size
        self.dropout = nn.Dropout(dropout)
        self.mean = nn.Sequential(nn.ReLU(), nn.Linear(size, dim))  # f_mu
        self.variance = nn.Sequential(nn.ReLU(), nn.Linear(size, dim))  # f_Sigma
        self.crf = CRF(tags).requires_grad_(False)  # zero transitions: IOB2 constraints only
        width = 2 * dim if source.frozen else size
        self.register_buffer("support_vectors", torch.zeros(0, width, dtype=torch.float16))
        self.register_buffer("support_tags", torch.zeros(0, dtype=torch.long))

    def gaussians(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """mu and the diagonal of Sigma of every word, (1): [B, n, dim] each, fp32."""
        x = self.dropout(self.source(batch))
        mu = self.mean(x).float()
        var = F.elu(self.variance(x).float()) + 1 + EPS
        return mu, var

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        mask = batch["mask"]
        mu, var = self.gaussians(batch)
        with torch.autocast(mu.device.type, enabled=False):  # distances in fp32
            return contrastive_loss(mu[mask], var[mask], batch["labels"][mask])

    def representations(self, batch: dict[str, Tensor]) -> Tensor:
        """What nearest neighbours compare: normalised h (finetune) or [mu; variance] (frozen)."""
        if self.source.frozen:
            return torch.cat(self.gaussians(batch), dim=-1)
        return F.normalize(self.source(batch).float(), dim=-1)

    def distance(self, queries: Tensor, support: Tensor) -> Tensor:
        return gaussian_distance(queries, support) if self.source.frozen else unit_distance(queries, support)

    def nearest_scores(self, batch: dict[str, Tensor]) -> Tensor:
        """Per word and tag: minus the distance to the nearest support token of that tag ([B, W, T])."""
        mask = batch["mask"]
        queries = self.representations(batch)[mask]
        with torch.autocast(queries.device.type, enabled=False):
            nearest = nearest_by_tag(
                queries, self.support_vectors, self.support_tags, len(self.tags), self.distance
            )
        emissions = torch.zeros(*mask.shape, len(self.tags), device=nearest.device)
        emissions[mask] = -nearest
        return emissions

    def decode(self, batch: dict[str, Tensor]) -> list[list[int]]:
        return self.crf.decode(self.nearest_scores(batch), batch["mask"])

    def decodings(self, batch: dict[str, Tensor]) -> dict[str, list[list[int]]]:
        """Constrained: Viterbi over the negated distances; argmax: each word's nearest tag."""
        scores, mask = self.nearest_scores(batch), batch["mask"]
        return {"constrained": self.crf.decode(scores, mask), "argmax": argmax_tags(scores, mask)}

    def support_sentences(self, examples: list[Example]) -> list[int]:
        """Which training sentences make the support set: all or K-shot, then capped in tokens."""
        generator = torch.Generator().manual_seed(torch.initial_seed())  # the run's seed
        chosen = list(range(len(examples)))
        if self.shots is not None:
            tags = [[self.tags[i] for i in e.labels] for e in examples]
            chosen = few_shot_sample(tags, self.shots, generator)
        if sum(len(examples[i]) for i in chosen) <= SUPPORT_MAX_TOKENS:
            return chosen
        kept, tokens = [], 0
        for i in torch.randperm(len(chosen), generator=generator).tolist():
            if tokens + len(examples[chosen[i]]) > SUPPORT_MAX_TOKENS:
                break
            kept.append(chosen[i])
            tokens += len(examples[chosen[i]])
        return sorted(kept)

    @torch.no_grad()
    def fit_support(self, examples: list[Example], batch_size: int, device: torch.device) -> None:
        """Encode the support sentences and store their token vectors and tags (the engine calls this)."""
        training = self.training
        self.eval()
        support = [examples[i] for i in self.support_sentences(examples)]
        vectors, tags = [], []
        for indexes in length_batches(support, batch_size, None):
            batch = {k: v.to(device) for k, v in collate([support[i] for i in indexes]).items()}
            vectors.append(self.representations(batch)[batch["mask"]].half())
            tags.append(batch["labels"][batch["mask"]])
        width = self.support_vectors.shape[1]
        self.support_vectors = torch.cat(vectors) if vectors else torch.zeros(0, width, device=device).half()
        self.support_tags = torch.cat(tags) if tags else torch.zeros(0, dtype=torch.long, device=device)
        self.train(training)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        """The support set's size is the checkpoint's: resize the buffers before loading them."""
        for name in ("support_vectors", "support_tags"):
            saved = state_dict.get(prefix + name)
            if saved is not None:
                current = getattr(self, name)
                setattr(self, name, torch.empty(saved.shape, dtype=saved.dtype, device=current.device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def build(config, tags: list[str], source: nn.Module, encoder) -> Container:
    """The model, from the shared encoder source (``registry.build_tagger`` calls this)."""
    return Container(source, tags, config.container_dim, config.dropout, config.container_shots)
