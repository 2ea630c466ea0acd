"""Plots of strategy searches and modality ablations."""


def plot_leaderboard(leaderboard, *, best_per_strategy=True, baseline="auto", ax=None):
    """Horizontal bars of a :func:`~mmsk.model_selection.fusion_leaderboard`, best on top.

    Parameters
    ----------
    leaderboard : DataFrame
        The output of :func:`mmsk.model_selection.fusion_leaderboard`.
    best_per_strategy : bool, default=True
        One bar per strategy (its best candidate); False: every candidate.
    baseline : "auto", float or None, default="auto"
        A reference score drawn as a vertical line, where the axis starts
        (so bars show the gain over it). ``"auto"``: the score of the
        leaderboard's ``"baseline"`` strategy if it has one; None: no line,
        and the axis starts just below the lowest bar.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from mmsk.plot import plot_leaderboard
    >>> board = pd.DataFrame({"strategy": ["late", "early", "late"], "params": ["", "", "C=1"],
    ...                       "mean_score": [0.9, 0.8, 0.7], "std_score": [0.01, 0.02, 0.03],
    ...                       "mean_fit_time": [1.0, 2.0, 1.0], "rank": [1, 2, 3]})
    >>> [t.get_text() for t in plot_leaderboard(board).get_yticklabels()]
    ['late', 'early']
    """
    board = leaderboard.sort_values("mean_score", ascending=False, kind="stable")
    if best_per_strategy:
        board = board.drop_duplicates("strategy")
        labels = board["strategy"].tolist()
    else:
        labels = [f"{s} ({p})" if p else s for s, p in zip(board["strategy"], board["params"])]
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 0.45 * len(board) + 1.2))
    if isinstance(baseline, str) and baseline == "auto":
        rows = leaderboard.loc[leaderboard["strategy"] == "baseline", "mean_score"]
        baseline = float(rows.max()) if len(rows) else None
    high = (board["mean_score"] + board["std_score"]).max()
    if baseline is not None:
        low = min(baseline, (board["mean_score"] - board["std_score"]).min())
        ax.barh(labels, board["mean_score"] - low, left=low, xerr=board["std_score"], color="C0", capsize=3)
        ax.axvline(baseline, color="C3", ls="--", label=f"baseline ({baseline:.3f})")
        ax.set_xlim(low, high + 0.05 * (high - low + 1e-9))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    else:
        ax.barh(labels, board["mean_score"], xerr=board["std_score"], color="C0", capsize=3)
        low = (board["mean_score"] - board["std_score"]).min()
        pad = 0.1 * (high - low + 1e-9)
        ax.set_xlim(low - pad, high + 0.5 * pad)
    ax.invert_yaxis()
    ax.set_xlabel("cross-validated score (mean +/- std over folds)")
    ax.set_title("fusion strategies")
    return ax


def plot_modality_ablation(table, *, ax=None):
    """Bars of a :func:`~mmsk.model_selection.modality_ablation` table, with all views as a line.

    Parameters
    ----------
    table : DataFrame
        The output of :func:`mmsk.model_selection.modality_ablation`.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from mmsk.plot import plot_modality_ablation
    >>> table = pd.DataFrame({"setting": ["all views", "only a", "only b"],
    ...                       "views": [("a", "b"), ("a",), ("b",)],
    ...                       "mean_score": [0.9, 0.7, 0.8], "std_score": [0.01, 0.02, 0.01],
    ...                       "delta": [0, -0.2, -0.1]})
    >>> [t.get_text() for t in plot_modality_ablation(table).get_yticklabels()]
    ['only a', 'only b']
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 0.45 * len(table) + 1.2))
    full = table.iloc[0]
    rest = table.iloc[1:]
    colors = ["C1" if s.startswith("only") else "C2" for s in rest["setting"]]
    ax.barh(rest["setting"], rest["mean_score"], xerr=rest["std_score"], color=colors, capsize=3)
    ax.axvline(full["mean_score"], color="k", ls="--", label=f"all views ({full['mean_score']:.3f})")
    ax.invert_yaxis()
    low = min((rest["mean_score"] - rest["std_score"]).min(), full["mean_score"])
    high = max((rest["mean_score"] + rest["std_score"]).max(), full["mean_score"])
    pad = 0.05 * (high - low + 1e-9)
    ax.set_xlim(low - pad, high + pad)
    ax.set_xlabel("cross-validated score")
    ax.set_title("modality ablation")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # beside the bars, never on one
    return ax
