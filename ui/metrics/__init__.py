"""The Metrics view: response-time trends, counts and action items as charts (pyqtgraph,
imported on the reader lane the first time the view opens) beside the numbers."""
