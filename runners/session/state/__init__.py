"""Each runner's figures, folded from its events, kept in bounded series, and how a figure reads."""
