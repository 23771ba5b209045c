"""Search in the window (DESIGN §6 `tunePanel`, `actionTune`) and every run side by side (`runsTable`)."""
