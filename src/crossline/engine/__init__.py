"""crossline's clinical engine: answers in, an explained, safe decision out.

Pure Python: no Django, no database, no clock, no environment, no file reads. The CLI, the web
app, the API and the tests all call the same functions.
"""

from crossline.engine.contract import Request, parse_answers, parse_request
from crossline.engine.decision import ENGINE_VERSION, Decision, assess, evaluate
from crossline.engine.errors import (
    CrosslineError,
    FieldError,
    InvalidInput,
    KnowledgeError,
    PolicyError,
)
from crossline.engine.flow import Step, next_step, remaining_at_most, walk
from crossline.engine.knowledge import Knowledge

__all__ = [
    "ENGINE_VERSION",
    "CrosslineError",
    "Decision",
    "FieldError",
    "InvalidInput",
    "Knowledge",
    "KnowledgeError",
    "PolicyError",
    "Request",
    "Step",
    "assess",
    "evaluate",
    "next_step",
    "parse_answers",
    "parse_request",
    "remaining_at_most",
    "walk",
]
