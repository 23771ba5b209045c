"""Search (`tune`, DESIGN §10): the search section (space, torch-free), the Optuna objective that
runs each trial as an ordinary training run, and what the terminal shows of a study."""
