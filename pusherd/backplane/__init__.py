"""How a node shares its events, counts and presence with the other nodes of its cluster."""
