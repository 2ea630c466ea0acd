"""The torch device an estimator runs on."""


def resolve_device(device):
    """``"auto"`` -> ``"cuda"`` when torch sees a GPU, else ``"cpu"``; check CUDA requests."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}, but torch sees no CUDA device; use 'cpu' or 'auto'.")
    try:
        torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device: {exc}") from None
    return str(device)
