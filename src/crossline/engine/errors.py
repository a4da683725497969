"""The engine's one exception tree. The edges (CLI, web, API) map these to exit codes and HTTP."""

from __future__ import annotations

from dataclasses import dataclass


class CrosslineError(Exception):
    """Base of every error the engine raises on purpose."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of the input, named the way the contract names it."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class InvalidInput(CrosslineError):
    """The input breaks the assessment contract. Nothing is evaluated, nothing is stored."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


class KnowledgeError(CrosslineError):
    """The knowledge files are malformed or inconsistent (a release must not ship like this)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


class PolicyError(CrosslineError):
    """A program-policy override is invalid or tries to lower a hard floor."""
