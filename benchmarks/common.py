"""What the benchmark sections share."""
from __future__ import annotations

import argparse
from typing import Callable, Optional, Sequence


def section_args(doc: str, add_arguments: Callable[[argparse.ArgumentParser], None],
                 argv: Optional[Sequence[str]], args: Optional[argparse.Namespace]
                 ) -> argparse.Namespace:
    """A section's arguments: those `bench.py` parsed for every section (`args`), or, when
    the section runs alone, its own options parsed from `argv`."""
    if args is not None:
        return args
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    add_arguments(ap)
    return ap.parse_args(argv)
