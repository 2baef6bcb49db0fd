"""Tests for workbench.model: shapes, attention paths, masking, loss and a one-batch overfit."""

import math
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from workbench.config import ModelConfig
from workbench.errors import InputError
from workbench.model import ClassifierOutput, TransformerClassifier

TINY = ModelConfig(
    vocab_size=99,
    num_labels=3,
    max_length=16,
    d_model=32,
    num_heads=4,
    num_layers=2,
    d_ff=64,
    dropout=0.0,
)
B, H, T = 3, 4, 10
LENGTHS = [10, 6, 1]  # one full row, one padded, one [CLS] only


def make_model(config: ModelConfig = TINY, seed: int = 0) -> TransformerClassifier:
    torch.manual_seed(seed)
    model = TransformerClassifier(config)
    # The init is near zero; larger weights make the test outputs far from trivial.
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.2)
    return model.eval()


def make_batch(lengths=LENGTHS, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids ([CLS]=2 first, pad 0) and the bool mask."""
    generator = torch.Generator().manual_seed(seed)
    width = max(lengths)
    input_ids = torch.randint(4, 99, (len(lengths), width), generator=generator)
    input_ids[:, 0] = 2
    mask = torch.arange(width) < torch.tensor(lengths)[:, None]
    return input_ids.masked_fill(~mask, 0), mask


@pytest.fixture
def model() -> TransformerClassifier:
    return make_model()


# --- shapes and attentions -----------------------------------------------------------


def test_logits_and_attention_shapes(model):
    input_ids, mask = make_batch()
    out = model(input_ids, mask, output_attentions=True)
    assert isinstance(out, ClassifierOutput)
    assert out.logits.shape == (B, 3)
    assert out.loss is None
    assert len(out.attentions) == TINY.num_layers
    for weights in out.attentions:
        assert weights.shape == (B, H, T, T)
    assert torch.isfinite(out.logits).all()


def test_attentions_are_none_on_the_fast_path(model):
    input_ids, mask = make_batch()
    assert model(input_ids, mask).attentions is None


def test_attention_rows_sum_to_one_and_ignore_padded_keys(model):
    input_ids, mask = make_batch()
    out = model(input_ids, mask, output_attentions=True)
    for weights in out.attentions:
        torch.testing.assert_close(weights.sum(-1), torch.ones(B, H, T))
        assert (weights >= 0).all()
        key_is_pad = ~mask[:, None, None, :].expand_as(weights)
        assert (weights[key_is_pad] == 0).all()
        # A row that holds only [CLS] attends to it alone.
        torch.testing.assert_close(weights[2, :, :, 0], torch.ones(H, T))
        # Real keys get real weight: attention is not collapsed onto padding or one key.
        assert (weights[0] > 0).all()


def test_no_attention_mask_means_no_padding(model):
    input_ids, _ = make_batch([T, T])
    full = torch.ones(2, T, dtype=torch.bool)
    torch.testing.assert_close(model(input_ids).logits, model(input_ids, full).logits)
    # An integer 0/1 mask works like a bool mask.
    input_ids, mask = make_batch()
    torch.testing.assert_close(model(input_ids, mask.long()).logits, model(input_ids, mask).logits)


# --- the two attention paths and masking -----------------------------------------------


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_fast_path_equals_the_path_that_returns_weights(pooling):
    model = make_model(replace(TINY, pooling=pooling))
    input_ids, mask = make_batch([10, 7, 3, 1])
    fast = model(input_ids, mask).logits
    slow = model(input_ids, mask, output_attentions=True).logits
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=0)
    # Not trivially equal: the rows differ from each other.
    assert (fast[0] - fast[1]).abs().max() > 1e-2


@pytest.mark.parametrize("pooling", ["mean", "cls"])
@pytest.mark.parametrize("output_attentions", [False, True])
def test_logits_do_not_change_when_batched_with_a_longer_sequence(pooling, output_attentions):
    model = make_model(replace(TINY, pooling=pooling))
    input_ids, mask = make_batch([5, 16])
    alone = model(input_ids[:1, :5], output_attentions=output_attentions).logits
    batched = model(input_ids, mask, output_attentions=output_attentions).logits
    torch.testing.assert_close(batched[:1], alone, atol=1e-5, rtol=0)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_padded_tokens_do_not_influence_real_ones(pooling):
    model = make_model(replace(TINY, pooling=pooling))
    input_ids, mask = make_batch([4, 12])
    changed = input_ids.clone()
    changed[0, 4:] = torch.arange(5, 13)  # garbage behind the mask
    torch.testing.assert_close(
        model(changed, mask).logits, model(input_ids, mask).logits, atol=1e-5, rtol=0
    )
    # ...while changing a real token does change the logits.
    changed[0, 1] = (input_ids[0, 1] + 1) % 99
    assert (model(changed, mask).logits[0] - model(input_ids, mask).logits[0]).abs().max() > 1e-4


def reference_attention(
    h: torch.Tensor, mask: torch.Tensor, qkv: torch.nn.Linear, proj: torch.nn.Linear, heads: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(QKᵀ/√d_k)·V head by head, from the layer's weights, with explicit loops."""
    batch, length, width = h.shape
    d_k = width // heads
    w_q, w_k, w_v = qkv.weight[:width], qkv.weight[width : 2 * width], qkv.weight[2 * width :]
    b_q, b_k, b_v = qkv.bias[:width], qkv.bias[width : 2 * width], qkv.bias[2 * width :]
    weights = torch.zeros(batch, heads, length, length, dtype=torch.float64)
    heads_out = torch.zeros(batch, length, width, dtype=torch.float64)
    for b in range(batch):
        x = h[b].double()
        for head in range(heads):
            cols = slice(head * d_k, (head + 1) * d_k)
            q = x @ w_q[cols].double().T + b_q[cols].double()  # (T, d)
            k = x @ w_k[cols].double().T + b_k[cols].double()
            v = x @ w_v[cols].double().T + b_v[cols].double()
            scores = q @ k.T / math.sqrt(d_k)  # (T, T)
            scores = scores - scores.max()
            exp = torch.exp(scores) * mask[b].double()[None, :]
            w = exp / exp.sum(-1, keepdim=True)
            weights[b, head] = w
            heads_out[b, :, cols] = w @ v
    out = heads_out @ proj.weight.double().T + proj.bias.double()
    return out.float(), weights.float()


def test_attention_matches_an_independent_reference(model):
    input_ids, mask = make_batch()
    attention = model.blocks[0].attention
    with torch.no_grad():
        x = model.token_embedding(input_ids) + model.position_embedding(torch.arange(T))
        h = model.blocks[0].norm1(x)
        expected_out, expected_weights = reference_attention(
            h, mask, attention.qkv, attention.proj, H
        )
        key_mask = mask[:, None, None, :]
        out_slow, weights = attention(h, key_mask, output_attentions=True)
        out_fast, none = attention(h, key_mask)
        model_weights = model(input_ids, mask, output_attentions=True).attentions[0]
    assert none is None
    torch.testing.assert_close(weights, expected_weights, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(model_weights, expected_weights, atol=1e-5, rtol=1e-4)
    # Padded query rows are never read, so compare the real tokens' outputs.
    torch.testing.assert_close(out_slow[mask], expected_out[mask], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out_fast[mask], expected_out[mask], atol=1e-5, rtol=1e-4)
    # The weights are far from uniform, so the comparison has teeth.
    assert expected_weights[0].max() > 2.0 / T


# --- loss, embeddings and gradients -------------------------------------------------------


def test_loss_equals_cross_entropy_and_is_none_without_labels(model):
    input_ids, mask = make_batch()
    labels = torch.tensor([2, 0, 1])
    for output_attentions in (False, True):
        out = model(input_ids, mask, labels=labels, output_attentions=output_attentions)
        expected = F.cross_entropy(out.logits, labels)
        torch.testing.assert_close(out.loss, expected)
        assert out.loss.ndim == 0 and out.loss > 0
    assert model(input_ids, mask).loss is None


def test_inputs_embeds_reproduce_the_normal_logits(model):
    input_ids, mask = make_batch()
    embeds = model.token_embedding(input_ids)
    normal = model(input_ids, mask).logits
    torch.testing.assert_close(model(input_ids, mask, inputs_embeds=embeds).logits, normal)
    # And they are really used: other embeddings give other logits.
    other = model(input_ids, mask, inputs_embeds=torch.zeros_like(embeds)).logits
    assert (other - normal).abs().max() > 1e-3


def test_gradients_flow_to_the_token_embeddings(model):
    model.train()
    input_ids, mask = make_batch()
    out = model(input_ids, mask, labels=torch.tensor([0, 1, 2]))
    out.loss.backward()
    grad = model.token_embedding.weight.grad
    assert grad is not None
    used = set(input_ids[mask].tolist())
    for token_id in range(TINY.vocab_size):
        row_norm = grad[token_id].norm().item()
        if token_id in used:
            assert row_norm > 0, token_id
        else:  # unused ids, and the padding row even though pads are in the batch
            assert row_norm == 0, token_id
    assert all(p.grad is not None for p in model.parameters())


def test_padding_embedding_row_starts_at_zero():
    model = TransformerClassifier(TINY)
    assert (model.token_embedding.weight[TINY.pad_token_id] == 0).all()
    assert model.token_embedding.weight[4:].abs().sum() > 0


def test_num_parameters_counts_every_weight(model):
    assert model.num_parameters() == sum(p.numel() for p in model.parameters())
    C, V, L, F_, K, P = 32, 99, 2, 64, 3, 16
    block = 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + 2 * C + (C * F_ + F_) + (F_ * C + C)
    assert model.num_parameters() == V * C + P * C + L * block + 2 * C + (C * K + K) == 20931


# --- input and config validation ------------------------------------------------------------


def test_input_longer_than_max_length_raises_value_error(model):
    with pytest.raises(ValueError, match="max_length=16"):
        model(torch.full((1, 17), 5))
    assert model(torch.full((1, 16), 5)).logits.shape == (1, 3)


@pytest.mark.parametrize(
    "bad",
    [
        {"d_model": 30, "num_heads": 4},
        {"num_heads": 0},
        {"dropout": 1.0},
        {"dropout": -0.1},
        {"pooling": "max"},
        {"max_length": 0},
        {"num_layers": 0},
    ],
)
def test_invalid_config_raises_input_error(bad):
    with pytest.raises(InputError):
        replace(TINY, **bad)


@pytest.mark.parametrize("bad", [{"vocab_size": 0}, {"num_labels": 1}])
def test_model_without_vocab_or_labels_raises_value_error(bad):
    with pytest.raises(ValueError, match="vocab_size"):
        TransformerClassifier(replace(TINY, **bad))


# --- training -------------------------------------------------------------------------------


def test_dropout_is_active_in_train_mode_only():
    model = make_model(replace(TINY, dropout=0.3))
    input_ids, mask = make_batch()
    torch.testing.assert_close(model(input_ids, mask).logits, model(input_ids, mask).logits)
    model.train()
    torch.manual_seed(0)
    first = model(input_ids, mask).logits
    second = model(input_ids, mask).logits
    assert (first - second).abs().max() > 1e-4


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_overfits_one_batch(pooling):
    torch.manual_seed(0)
    model = TransformerClassifier(replace(TINY, pooling=pooling))
    input_ids, mask = make_batch([16, 12, 9, 14, 5, 16, 8, 11], seed=3)
    labels = torch.randint(0, 3, (8,), generator=torch.Generator().manual_seed(4))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(150):
        optimizer.zero_grad()
        loss = model(input_ids, mask, labels=labels).loss
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        out = model(input_ids, mask, labels=labels)
    assert (out.logits.argmax(-1) == labels).all()
    assert out.loss < 0.05
