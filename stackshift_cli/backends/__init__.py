"""Where domains live: the local store or the StackShift API, behind one interface (base.Backend)."""
