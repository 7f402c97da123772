"""One module per source, each defining `Adapter(MutationAdapter)`; see tests/mutation/adapter.py."""
