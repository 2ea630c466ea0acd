"""Small torch building blocks shared by the deep estimators' modules (imported on first use)."""

import torch.nn as nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}


def mlp(d_in, hidden, d_out, dropout=0.0, activation="relu"):
    """Linear layers of the sizes in ``hidden`` (activation, then dropout, after each), then one to ``d_out``.

    Parameters
    ----------
    d_in, d_out : int
        Input and output sizes.
    hidden : sequence of int
        Hidden layer sizes; empty gives one linear map.
    dropout : float, default=0.0
        Dropout after each hidden layer (none is added when 0).
    activation : {"relu", "tanh", "sigmoid", "gelu"}, default="relu"

    Returns
    -------
    net : torch.nn.Sequential

    Examples
    --------
    >>> from mmsk.utils._nn import mlp
    >>> [type(layer).__name__ for layer in mlp(4, (8,), 2, dropout=0.1)]
    ['Linear', 'ReLU', 'Dropout', 'Linear']
    """
    layers, d = [], d_in
    for h in hidden:
        layers += [nn.Linear(d, h), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        d = h
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)
