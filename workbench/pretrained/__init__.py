"""Pretrained Hugging Face encoders as first-class models (the ``pretrained`` extra).

Three ways to use one:

- :class:`PretrainedEncoderClassifier` ``mode="finetune"``: the encoder, mean pooling and a
  linear head, fine-tuned together by the workbench's own fit loop
  (:func:`workbench.train.fit`: warm-up, early stopping, callbacks, the Stop button,
  checkpoints), then calibrated like every neural model here.
- ``mode="probe"``: the encoder stays frozen; the mean of its last hidden states feeds a
  scikit-learn logistic regression. Cheap, and a fair measure of what the pretrained
  representation already knows.
- :class:`HFSequenceClassifier`: a user's own fine-tuned ``AutoModelForSequenceClassification``
  directory, loaded as it is (no training) to predict, evaluate and explain.

**Word units.** The encoders read sub-word pieces; explanations speak of the project's
words (:func:`workbench.tokenizer.split_words`). :meth:`word_pieces` ties each piece to
its word through the fast tokenizer's character offsets, so the gradient methods sum a
word's pieces and attention is aggregated to words (see :mod:`workbench.explain.gradients`).
The Hugging Face tokenizer is ``hf_tokenizer_``, not ``tokenizer_``: explainers take
``tokenizer_`` to be the project's word tokenizer.

**Loading never runs code from the directory** (:func:`check_model_directory`): no
``trust_remote_code``, weights only from safetensors. A directory whose ``config.json``
asks for remote code (``auto_map``) or that holds only pickled weights
(``pytorch_model.bin``) is refused with the reason and what to do.

Artifacts have no pickle in them: ``config.json`` (settings, labels, temperature, where
the encoder came from) and ``head.safetensors``; a fine-tuned model also writes its
encoder and tokenizer under ``encoder/`` (safetensors). A probe's artifact records the
encoder's path instead of copying it, so loading needs that encoder to still be there.

Modules: :mod:`~workbench.pretrained.loading` (finding and checking an encoder, the offline
MiniLM copy), :mod:`~workbench.pretrained.networks` (the forward contract around a Hugging
Face model), :mod:`~workbench.pretrained.piece_model` (prediction and word pieces, shared),
:mod:`~workbench.pretrained.encoder_classifier` (fine-tune or probe) and
:mod:`~workbench.pretrained.hf_classifier` (a user's own classifier directory).
"""

from workbench.pretrained.encoder_classifier import (
    FINETUNE_EPOCHS,
    MODEL_TYPE,
    PretrainedEncoderClassifier,
    finetuned_encoder,
)
from workbench.pretrained.hf_classifier import HFSequenceClassifier
from workbench.pretrained.loading import (
    MINILM_HUB_NAME,
    MINILM_PATH_ENV,
    bundled_minilm_dir,
    check_model_directory,
    is_hf_model_directory,
    minilm_path,
    resolve_encoder,
    transformers_available,
)
from workbench.pretrained.networks import MeanPooledEncoder, SequenceClassificationNetwork

__all__ = [
    "FINETUNE_EPOCHS",
    "MINILM_HUB_NAME",
    "MINILM_PATH_ENV",
    "MODEL_TYPE",
    "HFSequenceClassifier",
    "MeanPooledEncoder",
    "PretrainedEncoderClassifier",
    "SequenceClassificationNetwork",
    "bundled_minilm_dir",
    "check_model_directory",
    "finetuned_encoder",
    "is_hf_model_directory",
    "minilm_path",
    "resolve_encoder",
    "transformers_available",
]
