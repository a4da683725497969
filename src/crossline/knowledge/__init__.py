"""The knowledge files (data only) and the one function that reads them.

The files in this package are the reviewed clinical knowledge: instruments, contraindications,
medication classes, program policy, rules, crisis resources and citations. Their hash is the
knowledge version every decision carries.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from crossline.engine.errors import KnowledgeError
from crossline.engine.knowledge import Knowledge, build, knowledge_version

DIRECTORY = Path(__file__).parent


def read_files(directory: Path = DIRECTORY) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*.toml"))
    }


def load_from(directory: Path) -> Knowledge:
    files = read_files(directory)
    if not files:
        raise KnowledgeError([f"no knowledge files (*.toml) in {directory}"])
    docs = {}
    for path, data in files.items():
        try:
            docs[path] = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise KnowledgeError([f"{path}: {exc}"]) from None
    return build(docs, knowledge_version(files))


@cache
def load() -> Knowledge:
    """The packaged knowledge base (read once per process)."""
    return load_from(DIRECTORY)
