"""Keep the objects a process built at startup out of the garbage collector's full passes.

A full collection walks every tracked object: in the web process (Rasa's domain, Sanic, the
routes) one took 70-110 ms, stalling every webhook in flight (README Performance). What exists once
a process is ready lives until it ends, so it is moved to the permanent generation (`gc.freeze`);
later collections walk only what requests and turns create.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then exempt every surviving object from later collections; returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
