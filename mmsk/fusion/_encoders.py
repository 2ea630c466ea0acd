"""View encoders to plug into FusionClassifier's ``encoders`` (imported on first use: it imports torch)."""

import torch.nn as nn


class SpectrogramEncoder(nn.Module):
    """A small convolutional encoder for a view holding a flattened spectrogram.

    The view's columns are read as an ``(n_mels, n_frames)`` image, mel band
    by mel band (the order of :class:`~mmsk.extract.AudioFeatures` with
    ``output="mel_frames"``, whose columns are ``mel_<m>_t<t>``). ``layers``
    blocks of 3x3 convolution, batch normalisation, ReLU and 2x2 max pooling
    double the channels each time; a global average over time and frequency
    and a linear map give the embedding. Use it as
    ``FusionClassifier(encoders={"audio": SpectrogramEncoder},
    module__encoders__audio__n_mels=40)``.

    Parameters
    ----------
    n_features : int
        The view's number of columns (``n_mels * n_frames``); given by the
        estimator.
    embed_dim : int
        Size of the embedding; given by the estimator.
    n_mels : int, default=40
        Mel bands, the spectrogram's height.
    channels : int, default=16
        Channels of the first convolution.
    layers : int, default=2
        Convolution blocks.
    dropout : float, default=0.0
        Dropout before the final linear map.

    Examples
    --------
    >>> import torch
    >>> from mmsk.fusion import SpectrogramEncoder
    >>> enc = SpectrogramEncoder(40 * 32, 16, n_mels=40, channels=4)
    >>> tuple(enc(torch.zeros(3, 40 * 32)).shape)
    (3, 16)
    """

    def __init__(self, n_features, embed_dim, n_mels=40, channels=16, layers=2, dropout=0.0):
        super().__init__()
        if n_features % n_mels:
            raise ValueError(
                f"SpectrogramEncoder: the view has {n_features} columns, not a multiple of n_mels={n_mels}; "
                f"set module__encoders__<view>__n_mels to the spectrogram's mel bands."
            )
        self.n_mels, self.n_frames = n_mels, n_features // n_mels
        blocks, c_in = [], 1
        for i in range(layers):
            c_out = channels * 2**i
            blocks += [
                nn.Conv2d(c_in, c_out, kernel_size=3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            c_in = c_out
        self.conv = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(c_in, embed_dim), nn.ReLU())

    def forward(self, x):
        return self.out(self.conv(x.reshape(-1, 1, self.n_mels, self.n_frames)))
