"""``overdue report``: a self-contained HTML report of any output directory (see :mod:`.build`)."""
