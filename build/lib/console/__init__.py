"""UI helpers shared by the console's pages: sign-in, wizard state, help panel, small components.

Pages stay thin: they draw with these helpers and call `jobs.api` / `store.queries`.
"""
