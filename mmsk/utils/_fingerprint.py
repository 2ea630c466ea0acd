"""What counts when deciding whether two runs compute the same thing."""

#: Parameters that change how the work is done (workers, progress, device, caching),
#: never what it gives. The extractors' feature cache and the feature store both leave
#: them out of their fingerprints, so changing one reuses what was computed.
RUN_ONLY_PARAMS = frozenset(
    {"n_jobs", "progress", "on_error", "cache", "batch_size", "device", "verbose", "memory"}
)
