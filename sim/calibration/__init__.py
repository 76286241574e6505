"""Calibration: fit a scenario's free keys to a lender's observed figures (``overdue
calibrate``). :mod:`.spec` reads the file, :mod:`.search` runs the optimiser, :mod:`.report`
and :mod:`.calibrate` write the results; ``docs/calibration.md`` explains them."""
