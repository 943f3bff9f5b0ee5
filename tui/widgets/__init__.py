"""The widgets the screens are made of: panels and the leaderboard (rows of text), charts, the parity bar."""
