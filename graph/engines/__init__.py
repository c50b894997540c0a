"""The engine seam: open a store by engine name and ask it the pipeline's questions.

``base`` declares what an engine supplies and what is built once on top; ``registry``
names the engines; one folder per engine (``embedded``, ``neo4j``) holds its driver code.
Nothing outside this package imports a database driver.
"""

from .base import Engine, LoadResult
from .errors import EngineError, NotSupported
from .policy import LinkPolicy, SimilarityPolicy, rarity
from .registry import (
    engine_names,
    open_engine,
    require_store,
    store_files,
    store_version,
)

__all__ = [
    "Engine", "EngineError", "LinkPolicy", "LoadResult", "NotSupported", "SimilarityPolicy", "engine_names",
    "open_engine", "rarity", "require_store", "store_files", "store_version",
]
