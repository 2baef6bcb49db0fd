"""What one request may ask for (:class:`ServeLimits`), and how the server refuses
what it will not answer (:class:`RequestError`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from workbench.errors import InputError


@dataclass(frozen=True)
class ServeLimits:
    """What one request may ask for, and how predictions are batched."""

    # Longer texts are refused: the model reads only its first max_length tokens anyway.
    max_text_chars: int = 10_000
    # Texts in one /predict list.
    max_texts: int = 256
    # Bytes in one request body; checked before the body is read into memory.
    max_body_bytes: int = 1_048_576
    # Texts scored in one model call: bounds how long the last text of a batch waits for
    # the others.
    max_batch: int = 64
    # How long the first waiting text waits for others to join its batch (0: never waits;
    # texts that arrive while the model runs are batched all the same).
    batch_wait_ms: float = 2.0
    # Texts accepted but not yet scored; beyond it /predict answers 503 instead of queueing
    # without bound.
    max_pending_texts: int = 4096
    # Explanations admitted at once (one running, the rest waiting); beyond it, 503.
    explain_queue: int = 4
    # Upper bounds of the explanation budgets (the defaults are 500, 1000 and 50).
    max_evals: int = 2000
    max_num_samples: int = 5000
    max_steps: int = 200

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if name == "batch_wait_ms" and not value >= 0:
                raise InputError(f"serve limit {name} must be 0 or more, got {value}")
            if name != "batch_wait_ms" and not value > 0:
                raise InputError(f"serve limit {name} must be positive, got {value}")
        if self.max_pending_texts < self.max_texts:
            raise InputError(
                f"max_pending_texts ({self.max_pending_texts}) must be at least max_texts "
                f"({self.max_texts}), or a full list could never be accepted"
            )


class RequestError(Exception):
    """A request the server refuses: an HTTP status and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
