"""The HTML report of a ``mmsk fit`` run: one self-contained page with its plots embedded."""

from ._html import write_report

__all__ = ["write_report"]
