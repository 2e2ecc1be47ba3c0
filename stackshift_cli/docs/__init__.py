"""Shell completions and the man page, generated from the live command tree (see scripts/gen-docs)."""
