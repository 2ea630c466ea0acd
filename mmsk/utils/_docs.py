"""Docstrings assembled from shared fragments, in a way that survives ``python -OO``."""


def fill_doc(obj, fragments):
    """Fill the ``%(name)s`` fields of ``obj``'s docstring from ``fragments``; return ``obj``.

    Under ``python -OO`` docstrings are None and there is nothing to fill.
    """
    if obj.__doc__ is not None:
        obj.__doc__ = obj.__doc__ % fragments
    return obj
