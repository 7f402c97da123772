"""The mutation test's harness (issue 12): random source changes between catch-up runs must leave
the workspace equal to a fresh import of the source as it is now, plus soft deletes.

`adapter.py` is the interface each fake vendor answers; `adapters/<source>.py` holds one per
source (a module defining `Adapter`, found by name: adding a source adds a file, nothing else);
`snapshot.py` reads a workspace store into comparable values; tests/test_mutation.py drives it all
with Hypothesis' stateful testing.
"""
